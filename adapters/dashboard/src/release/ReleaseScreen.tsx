/**
 * The release page: the link the GitHub Action, the CLI and notifications print
 * (`/teams/{team}/deployments/{id}`). Status and why, the plan as a step ladder with the time
 * left in the current soak, the error-rate chart and every verdict in words, the preflight of a
 * pending release, the actions the person's role and the release's state allow, and the events
 * timeline, kept current by the live stream (or polling, which the page says).
 */
import type { Deployment } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { call } from "../api/Client.ts"
import { teamPath } from "../routing/Router.tsx"
import { can, teamOf, useMe } from "../session/Session.ts"
import { Link } from "../routing/Link.tsx"
import { Failed, Loading } from "../ui/States.tsx"
import { isHttpUrl } from "@canaryroll/api/Schemas"
import { isOver, percent, shortId, statusNames, timeText } from "./Describe.ts"
import { ErrorRateChart } from "./ErrorRateChart.tsx"
import { eventsKey, type LiveMode, pollMs, releaseKey, useLiveRelease } from "./LiveRelease.ts"
import { Preflight } from "./Preflight.tsx"
import { ReleaseActions } from "./ReleaseActions.tsx"
import { StepLadder } from "./StepLadder.tsx"
import { Timeline } from "./Timeline.tsx"
import { Verdicts } from "./Verdicts.tsx"

const LiveBadge = ({ mode, over }: { readonly mode: LiveMode; readonly over: boolean }) => {
  if (over) return <p className="live muted" role="status">This release is over; nothing will change it.</p>
  switch (mode._tag) {
    case "Connecting":
      return <p className="live muted" role="status">Connecting to live updates…</p>
    case "Live":
      return <p className="live live-on" role="status">Live: events appear as they happen.</p>
    case "Polling":
      return <p className="live live-polling" role="status">Live updates unavailable ({mode.why}); refreshing every {pollMs / 1000} s instead.</p>
  }
}

/** The status in words: what the release is doing, and why when there is a reason. */
const statusSentence = (release: Deployment) => {
  const step = `step ${release.currentStep + 1} of ${release.stepsSnapshot.length}`
  switch (release.status) {
    case "pending":
      return "Pending: created, waiting for someone to start it."
    case "in_progress":
      return release.rollbackReason !== null
        ? `Rolling back: ${release.rollbackReason}`
        : `In progress at ${step}: ${percent(release.currentPercentage)} of the traffic on the new version${release.autoAdvance ? ", advancing by itself when the soak is over and the latest check is healthy" : ", waiting for a person to advance each step"}.`
    case "paused":
      return `Paused at ${step}${release.statusReason === null ? "" : `: ${release.statusReason}`}.`
    case "completed":
      return "Completed: the new version serves 100% of the traffic."
    case "rolled_back":
      return `Rolled back: the stable version serves 100% again${release.rollbackReason === null ? "" : `, because ${release.rollbackReason}`}.`
    case "failed":
      return `Failed${release.statusReason === null ? "" : `: ${release.statusReason}`}.`
    case "cancelled":
      return `Cancelled before it started${release.statusReason === null ? "" : `: ${release.statusReason}`}.`
  }
}

export default function ReleaseScreen({ team: ref, id }: { readonly team: string; readonly id: string }) {
  const me = useMe()
  const team = teamOf(me.data?.teams ?? [], ref)
  const release = useQuery({
    queryKey: releaseKey(ref, id),
    queryFn: () => call((client) => client.deployments.getDeployment({ params: { team: ref, id } }))
  })
  const over = release.data !== undefined && isOver(release.data.status)
  const live = useLiveRelease(ref, id, release.data !== undefined && !over)
  const polling = live.mode._tag === "Polling" && !over
  const queryClient = useQueryClient()
  // Polling is the fallback: while the stream runs, a new event triggers a re-read instead.
  const listed = useQuery({
    queryKey: eventsKey(ref, id),
    queryFn: () => call((client) => client.deployments.deploymentEvents({ params: { team: ref, id } })),
    refetchInterval: polling ? pollMs : false
  })
  useQuery({
    queryKey: ["release-poll", ref, id],
    queryFn: async () => {
      await queryClient.invalidateQueries({ queryKey: releaseKey(ref, id) })
      return Date.now()
    },
    enabled: polling,
    refetchInterval: pollMs
  })
  // Both re-read with the release (their keys start with its key) when an event arrives.
  const progress = useQuery({
    queryKey: [...releaseKey(ref, id), "progress"],
    queryFn: async () => ({ progress: await call((client) => client.dashboard.progress({ params: { team: ref, id } })), readAt: Date.now() })
  })
  const health = useQuery({
    queryKey: [...releaseKey(ref, id), "checks"],
    queryFn: () => call((client) => client.dashboard.healthChecks({ params: { team: ref, id } }))
  })
  const pending = release.data?.status === "pending"
  const preflight = useQuery({
    queryKey: ["preflight", ref, id],
    queryFn: () => call((client) => client.deployments.preflight({ params: { team: ref, id } })),
    enabled: pending
  })
  if (release.isPending) return <main className="page"><Loading what="the release" /></main>
  if (release.isError) return <main className="page"><Failed error={release.error} retry={() => release.refetch()} /></main>
  const d = release.data
  const events = live.streamed.length >= (listed.data?.length ?? 0) && live.streamed.length > 0 ? live.streamed : listed.data ?? []
  const checks = health.data?.checks ?? []
  const policy = health.data?.policy
  const attention = progress.data?.progress.attention ?? []
  const mayAct = team !== undefined && can(team.role, "deploy")
  return (
    <main className="page">
      <p className="crumbs"><Link to={teamPath(ref)}>{team?.name ?? ref}</Link> / release {shortId(d.id)}</p>
      <h1>{d.name ?? `Release of version ${shortId(d.cfVersionId)}`}</h1>
      <p className={`status-line status-${d.status}`}>
        <span className={`status status-${d.status}`}>{statusNames[d.status]}</span> <span data-testid="status-sentence">{statusSentence(d)}</span>
      </p>
      <LiveBadge mode={live.mode} over={over} />
      {attention.length === 0 ? null : (
        <div className="notice" role="note"><strong>Needs attention:</strong>
          <ul className="attention">{attention.map((item) => <li key={item.kind}>{item.message}</li>)}</ul>
        </div>
      )}
      <dl className="facts">
        <dt>Traffic on the new version</dt><dd>{percent(d.currentPercentage)}</dd>
        <dt>Advance</dt><dd>{d.autoAdvance ? "automatic" : "manual (a person advances each step)"}</dd>
        <dt>New version</dt><dd><code>{d.cfVersionId}</code></dd>
        <dt>Stable version</dt><dd><code>{d.cfPreviousVersionId ?? "read when it starts"}</code></dd>
        <dt>Started</dt><dd>{timeText(d.startedAt)}</dd>
        <dt>Ended</dt><dd>{timeText(d.completedAt)}</dd>
        {d.ticketUrl === null ? null : <><dt>Ticket</dt><dd>{isHttpUrl(d.ticketUrl) ? <a href={d.ticketUrl} rel="noopener noreferrer">{d.ticketUrl}</a> : d.ticketUrl}</dd></>}
      </dl>
      {team !== undefined && !mayAct && !over
        ? <p className="notice" role="note">You are read-only in this team: you can follow this release, and only deploy members and admins can act on it.</p>
        : null}
      {pending ? preflight.isPending ? <Loading what="the preflight checks" /> : preflight.isError ? <Failed error={preflight.error} retry={() => preflight.refetch()} /> : <Preflight result={preflight.data} /> : null}
      {mayAct ? <ReleaseActions team={ref} release={d} preflightPassed={pending ? preflight.data?.passed : true} /> : null}
      <section aria-labelledby="steps-title">
        <h2 id="steps-title">Plan</h2>
        <StepLadder release={d} progress={progress.data?.progress} readAt={progress.data?.readAt ?? 0} />
      </section>
      <section aria-labelledby="health-title">
        <h2 id="health-title">Health</h2>
        {health.isError ? <Failed error={health.error} retry={() => health.refetch()} /> : policy === undefined ? <Loading what="the health checks" /> : (
          <>
            <p className="muted">
              Limit: error rate at most {(policy.maxErrorRate * 100).toFixed(2)}%
              {policy.maxErrorRateIncrease === null ? "" : `, and at most ${(policy.maxErrorRateIncrease * 100).toFixed(2)} points above the stable version`}
              ; at least {policy.minRequests} requests for a verdict; checked every {policy.intervalSeconds} s;
              {" "}{policy.failuresBeforeAction} failed {policy.failuresBeforeAction === 1 ? "check acts" : "checks in a row act"} on the release.
            </p>
            <ErrorRateChart checks={checks} limit={policy.maxErrorRate} />
          </>
        )}
        <h3>Verdicts</h3>
        <Verdicts checks={checks} />
      </section>
      <section aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        {listed.isError && live.streamed.length === 0 ? <Failed error={listed.error} retry={() => listed.refetch()} /> : <Timeline events={events} />}
      </section>
    </main>
  )
}
