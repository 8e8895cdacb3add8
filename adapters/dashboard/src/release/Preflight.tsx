/** What CanaryRoll checks before a release starts (credentials, the live deployment, the versions). */
import type { Preflight as PreflightResult } from "@canaryroll/api/Schemas"

export const Preflight = ({ result }: { readonly result: PreflightResult }) => (
  <section aria-labelledby="preflight-title" className="card">
    <h2 id="preflight-title">Preflight: {result.passed ? "ready to start" : "not ready"}</h2>
    <ul className="checks">
      {result.checks.map((check) => (
        <li key={check.name} className={check.passed ? "check passed" : "check failed"}>
          <span aria-hidden="true">{check.passed ? "✓" : "✗"}</span> <strong>{check.name}</strong>
          <span className="visually-hidden">{check.passed ? " passed" : " failed"}</span>
          {check.message === undefined ? null : <span className="muted">: {check.message}</span>}
        </li>
      ))}
    </ul>
  </section>
)
