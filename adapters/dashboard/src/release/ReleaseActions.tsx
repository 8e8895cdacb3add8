/**
 * What a person may do to the release now: only the actions its state allows, and only for a
 * role that may (deploy or admin). Each asks for confirmation and an optional reason, and is
 * sent with an `Idempotency-Key`; advance names the step it moves on from (`fromStep`), so a
 * page that is out of date cannot move the release twice.
 */
import type { Deployment } from "@canaryroll/api/Schemas"
import { useQueryClient } from "@tanstack/react-query"
import { lazy, Suspense, useState } from "react"
import { change } from "../api/Client.ts"
import { percent } from "./Describe.ts"
import { eventsKey, releaseKey } from "./LiveRelease.ts"

// The dialog's code (react-aria's Modal and TextField) loads on the first click, not with the page.
const ConfirmDialog = lazy(() => import("../ui/ConfirmDialog.tsx").then((module) => ({ default: module.ConfirmDialog })))

type Action = "start" | "advance" | "pause" | "resume" | "rollback" | "cancel"

/** The actions a release's state allows, in the order they are shown. */
export const actionsFor = (release: Deployment): ReadonlyArray<Action> => {
  switch (release.status) {
    case "pending":
      return ["start", "cancel"]
    case "in_progress":
      // A rollback under way is CanaryRoll's to finish.
      return release.rollbackReason !== null ? [] : ["advance", "pause", "rollback"]
    case "paused":
      return ["resume", "rollback"]
    case "completed":
    case "rolled_back":
    case "failed":
    case "cancelled":
      return []
  }
}

const describe = (action: Action, release: Deployment) => {
  const next = release.stepsSnapshot[release.currentStep + 1]
  switch (action) {
    case "start":
      return { label: "Start", title: "Start this release?", text: `CanaryRoll shifts ${percent(release.stepsSnapshot[0]?.percentage ?? 0)} of the traffic to the new version, then follows the plan.`, danger: false }
    case "advance":
      return {
        label: "Advance",
        title: next === undefined ? "Complete this release?" : `Advance to ${percent(next.percentage)}?`,
        text: next === undefined
          ? "The new version serves 100% already; advancing completes the release without waiting for the rest of the soak."
          : `Moves on from step ${release.currentStep + 1} without waiting for the rest of its soak. The latest health check must be healthy.`,
        danger: false
      }
    case "pause":
      return { label: "Pause", title: "Pause this release?", text: "Traffic stays as it is; no checks and no changes until someone resumes it.", danger: false }
    case "resume":
      return { label: "Resume", title: "Resume this release?", text: "CanaryRoll reads the live deployment and carries on from it.", danger: false }
    case "rollback":
      return { label: "Roll back", title: "Roll back this release?", text: "The stable version serves 100% of the traffic again. The release ends rolled back.", danger: true }
    case "cancel":
      return { label: "Cancel release", title: "Cancel this release?", text: "It has not started; nothing changes on Cloudflare. The release ends cancelled.", danger: true }
  }
}

export const ReleaseActions = ({ team, release, preflightPassed }: {
  readonly team: string
  readonly release: Deployment
  /** Whether the preflight passed (start is offered only then); undefined while it runs. */
  readonly preflightPassed: boolean | undefined
}) => {
  const queryClient = useQueryClient()
  const [open, setOpen] = useState<Action | undefined>(undefined)
  const actions = actionsFor(release)
  if (actions.length === 0) return null
  const run = async (action: Action, reason: string | undefined) => {
    const params = { team, id: release.id }
    const payload = reason === undefined ? null : { reason }
    const updated = await change((client) => {
      switch (action) {
        case "start":
          return client.deployments.start({ params, payload })
        case "advance":
          return client.deployments.advance({ params, payload: { fromStep: release.currentStep, ...(reason === undefined ? {} : { reason }) } })
        case "pause":
          return client.deployments.pause({ params, payload })
        case "resume":
          return client.deployments.resume({ params, payload })
        case "rollback":
          return client.deployments.rollback({ params, payload })
        case "cancel":
          return client.deployments.cancel({ params, payload })
      }
    })
    queryClient.setQueryData(releaseKey(team, release.id), updated)
    // Its progress and checks (keys under the release's) and its events.
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: releaseKey(team, release.id) }),
      queryClient.invalidateQueries({ queryKey: eventsKey(team, release.id) })
    ])
  }
  const current = open === undefined ? undefined : describe(open, release)
  return (
    <div className="actions" role="group" aria-label="Release actions">
      {actions.map((action) => {
        const { label, danger } = describe(action, release)
        const blocked = action === "start" && preflightPassed !== true
        return (
          <button type="button" key={action} className={danger ? "button danger" : action === "start" || action === "advance" ? "button primary" : "button"}
            disabled={blocked} onClick={() => setOpen(action)}>
            {label}
          </button>
        )
      })}
      {open === undefined || current === undefined ? null : (
        <Suspense fallback={null}><ConfirmDialog isOpen title={current.title} description={current.text} confirmLabel={current.label} danger={current.danger}
          onOpenChange={(isOpen) => isOpen ? undefined : setOpen(undefined)}
          onConfirm={(reason) => run(open, reason)} /></Suspense>
      )}
    </div>
  )
}
