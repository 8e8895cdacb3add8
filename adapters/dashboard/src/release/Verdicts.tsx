/** Every health check's verdict and its reasons, in words, newest first. */
import { type HealthCheck, rateText, errorRate } from "./HealthChecks.ts"

export const Verdicts = ({ checks }: { readonly checks: ReadonlyArray<HealthCheck> }) => checks.length === 0
  ? <p className="muted">No health check yet: the first one runs once the canary has served traffic for a check interval (and Cloudflare's analytics have caught up).</p>
  : (
    <ol className="verdicts" aria-label="Health check verdicts" reversed>
      {[...checks].reverse().map((check) => (
        <li key={check.id} className={`verdict verdict-${check.verdict}`}>
          <strong>{check.verdict}</strong>{" "}
          <span className="muted">step {check.stepIndex + 1}, window ending {new Date(check.windowEnd).toLocaleTimeString()}:</span>{" "}
          canary {rateText(errorRate(check.canary))}{check.canary === null ? "" : ` of ${check.canary.requests} requests`},
          stable {rateText(errorRate(check.stable))}
          {check.consecutiveFailures > 0 ? ` · ${check.consecutiveFailures} failed in a row` : ""}
          {check.reasons.length === 0 ? null : <span className="reasons"> — {check.reasons.join("; ")}</span>}
        </li>
      ))}
    </ol>
  )
