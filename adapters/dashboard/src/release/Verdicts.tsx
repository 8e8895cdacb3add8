/** Every health check's verdict and its reasons (the limit it compared against), in words, newest first. */
import { type HealthCheck, rateText } from "./HealthChecks.ts"

export const Verdicts = ({ checks }: { readonly checks: ReadonlyArray<HealthCheck> }) => checks.length === 0
  ? <p className="muted">No health check yet: the first one runs once the canary has served traffic for a check interval (and Cloudflare's analytics have caught up).</p>
  : (
    <ol className="verdicts" aria-label="Health check verdicts" reversed>
      {[...checks].reverse().map((check) => (
        <li key={check.version} className={`verdict verdict-${check.verdict}`}>
          <strong>{check.verdict}</strong>{" "}
          <span className="muted">step {check.stepIndex + 1} at {check.percentage}%, window ending {new Date(check.window.end).toLocaleTimeString()}:</span>{" "}
          canary {rateText(check.canary)}{check.canary === null ? "" : ` of ${check.canary.requests} requests`},
          stable {rateText(check.stable)}
          {check.consecutiveFailures > 0 ? ` · ${check.consecutiveFailures} failed in a row` : ""}
          {check.reasons.length === 0 ? null : <span className="reasons"> — {check.reasons.join("; ")}</span>}
        </li>
      ))}
    </ol>
  )
