/**
 * The job summary the action writes (`GITHUB_STEP_SUMMARY`, Markdown): the release and its link,
 * the version, where the rollout stands (step, percentage, soak left, last health verdict) and
 * the plan's steps with the current one marked.
 *
 * @since 0.1.0
 */
import { Schemas } from "@canaryroll/api"
import { ReleaseProgress } from "@canaryroll/cli"

const statusBadge: Record<Schemas.Status, string> = {
  pending: "⏸️ pending",
  in_progress: "🚀 in progress",
  paused: "⏸️ paused",
  completed: "✅ completed",
  rolled_back: "↩️ rolled back",
  failed: "❌ failed",
  cancelled: "🚫 cancelled"
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ")

export const render = (input: {
  readonly release: Schemas.PublicDeployment
  readonly releaseUrl: string
  readonly progress: ReleaseProgress.ReleaseProgress | undefined
  readonly uploadedVersion: boolean
  readonly note: string | undefined
}): string => {
  const { release } = input
  const current = Math.min(release.currentStep, release.stepsSnapshot.length - 1)
  const started = release.status !== "pending"
  const steps = release.stepsSnapshot.map((step, index) => {
    const state = release.status === "completed" || (started && index < current)
      ? "done"
      : started && index === current && !Schemas.isTerminal(release.status)
      ? "**current**"
      : ""
    return `| ${index + 1} | ${step.percentage}% | ${step.waitSeconds}s | ${state} |`
  })
  return [
    `### CanaryRoll release ${statusBadge[release.status]}`,
    ``,
    `[Open release ${release.id}](${input.releaseUrl})`,
    ``,
    `| | |`,
    `| --- | --- |`,
    `| Worker | \`${cell(release.workerId)}\` |`,
    `| Version | \`${cell(release.cfVersionId)}\`${input.uploadedVersion ? " (uploaded by this step)" : ""} |`,
    ...(release.cfPreviousVersionId === null ? [] : [`| Stable version | \`${cell(release.cfPreviousVersionId)}\` |`]),
    ...(release.name === null ? [] : [`| Name | ${cell(release.name)} |`]),
    ...(release.ticketUrl === null ? [] : [`| Ticket | ${cell(release.ticketUrl)} |`]),
    ...(input.progress === undefined ? [] : [`| Progress | ${cell(ReleaseProgress.describe(input.progress))} |`]),
    ...(release.statusReason === undefined || release.statusReason === null ? [] : [`| Reason | ${cell(release.statusReason)} |`]),
    ``,
    `| Step | Traffic | Soak | |`,
    `| --- | --- | --- | --- |`,
    ...steps,
    ...(input.note === undefined ? [] : [``, input.note]),
    ``
  ].join("\n")
}

