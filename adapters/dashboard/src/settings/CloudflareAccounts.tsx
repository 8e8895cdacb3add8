/**
 * The Cloudflare accounts the team connected (several may be). Connecting or rotating saves an API
 * token, which the server verifies with Cloudflare before keeping it (encrypted); then the
 * token's permissions are checked against what releases need (read the Workers, read their
 * analytics, change their deployments) and the report is shown. An account a Worker uses cannot
 * be removed: the API says so.
 */
import type { CloudflareAccount } from "@canaryroll/api/Schemas"
import type { CloudflareAccessReport } from "@canaryroll/api/Api"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button } from "react-aria-components"
import { call, change, messageOf } from "../api/Client.ts"
import { CheckedField } from "../ui/CheckedField.tsx"
import { ConfirmDialog } from "../ui/LazyConfirmDialog.tsx"
import { fieldErrorsOf, type FieldErrors, noFieldErrors } from "../ui/FieldErrors.ts"
import { Failed, Loading } from "../ui/States.tsx"
import { settingsKeys, timeText } from "./SettingsKeys.ts"

type Report = typeof CloudflareAccessReport.Type

const checkNames: Record<Report["checks"][number]["name"], string> = {
  workers_read: "Read the account's Workers (Workers Scripts Read)",
  analytics_read: "Read their analytics (Account Analytics Read)",
  deployments_edit: "Change their deployments (Workers Scripts Edit)"
}

const AccessReport = ({ report }: { readonly report: Report }) => (
  <section className="card" aria-label={`Permissions of the token for ${report.accountId}`}>
    <h4>{report.passed ? "The token can do everything releases need" : "The token lacks permissions releases need"}</h4>
    <ul className="checks">
      {report.checks.map((check) => (
        <li key={check.name} className={check.passed ? "check passed" : "check failed"}>
          <span aria-hidden="true">{check.passed ? "✓" : "✗"}</span> {checkNames[check.name]}: {check.passed ? "yes" : "no"}
          <span className="muted small"> {check.message}</span>
        </li>
      ))}
    </ul>
    <p className="muted small">Workers in the account: {report.workers.length === 0 ? "none" : report.workers.join(", ")}</p>
  </section>
)

export const CloudflareAccounts = ({ team }: { readonly team: string }) => {
  const queryClient = useQueryClient()
  const [accountId, setAccountId] = useState("")
  const [apiToken, setApiToken] = useState("")
  const [rotating, setRotating] = useState<string | undefined>(undefined)
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors)
  const [busy, setBusy] = useState(false)
  const [reports, setReports] = useState<Readonly<Record<string, Report | string>>>({})
  const [removing, setRemoving] = useState<CloudflareAccount | undefined>(undefined)
  const accounts = useQuery({ queryKey: settingsKeys.cloudflareAccounts(team), queryFn: () => call((client) => client.teams.listCloudflareAccounts({ params: { team } })) })
  const refresh = () => queryClient.invalidateQueries({ queryKey: settingsKeys.cloudflareAccounts(team) })
  const check = async (id: string) => {
    setReports((current) => ({ ...current, [id]: "Checking with Cloudflare…" }))
    try {
      const report = await call((client) => client.teams.checkCloudflareAccount({ params: { team, accountId: id } }))
      setReports((current) => ({ ...current, [id]: report }))
    } catch (error) {
      setReports((current) => ({ ...current, [id]: messageOf(error) }))
    }
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const id = (rotating ?? accountId).trim()
    setBusy(true)
    setErrors(noFieldErrors)
    try {
      await change((client) => client.teams.saveCloudflareAccount({ params: { team, accountId: id }, payload: { apiToken: apiToken.trim() } }))
      setApiToken("")
      setAccountId("")
      setRotating(undefined)
      await refresh()
      await check(id)
    } catch (error) {
      // The path parameter is `accountId`, the body's field `apiToken`.
      setErrors(fieldErrorsOf(error, (path) => path === "accountId" || path === "apiToken"))
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      {accounts.isPending ? <Loading what="Cloudflare accounts" /> : accounts.isError ? <Failed error={accounts.error} retry={() => accounts.refetch()} /> : accounts.data.length === 0
        ? <p className="muted">No Cloudflare account yet: connect one to add its Workers.</p>
        : (
          <ul className="list" aria-label="Cloudflare accounts">
            {accounts.data.map((account) => {
              const report = reports[account.accountId]
              return (
                <li key={account.accountId} className="card">
                  <div className="title-row">
                    <h3><code>{account.accountId}</code></h3>
                    <span className="spacer" />
                    <Button className="button" aria-label={`Check permissions of ${account.accountId}`} onPress={() => check(account.accountId)}>Check permissions</Button>
                    <Button className="button" aria-label={`Rotate the token of ${account.accountId}`} onPress={() => { setRotating(account.accountId); setErrors(noFieldErrors) }}>Rotate the token</Button>
                    <Button className="button danger" aria-label={`Remove ${account.accountId}`} onPress={() => setRemoving(account)}>Remove</Button>
                  </div>
                  <p className="muted small">Token <code>{account.tokenDisplay}</code>, verified {timeText(account.verifiedAt)}, saved {timeText(account.updatedAt)}.</p>
                  {report === undefined ? null : typeof report === "string" ? <p role="status">{report}</p> : <AccessReport report={report} />}
                </li>
              )
            })}
          </ul>
        )}
      <form className="form" aria-label={rotating === undefined ? "Connect a Cloudflare account" : `New token for ${rotating}`} onSubmit={submit} noValidate>
        <h3>{rotating === undefined ? "Connect an account" : <>New token for <code>{rotating}</code></>}</h3>
        {rotating === undefined
          ? <CheckedField label="Account id" name="accountId" value={accountId} onChange={setAccountId} problem={errors.byField.get("accountId")} isRequired
            description="32 hexadecimal characters: in the Cloudflare dashboard, Workers & Pages, on the right." />
          : null}
        <CheckedField label="API token" name="apiToken" type="password" autoComplete="off" value={apiToken} onChange={setApiToken} problem={errors.byField.get("apiToken")} isRequired
          description="With Workers Scripts Edit and Account Analytics Read on this account. Verified with Cloudflare, stored encrypted, never shown again." />
        {errors.general === undefined ? null : <p className="problem" role="alert">{errors.general}</p>}
        <div className="buttons">
          {rotating === undefined ? null : <Button className="button" onPress={() => { setRotating(undefined); setApiToken("") }}>Cancel</Button>}
          <button type="submit" className="button primary" disabled={busy}>{busy ? "Verifying with Cloudflare…" : rotating === undefined ? "Connect" : "Save the new token"}</button>
        </div>
      </form>
      <ConfirmDialog isOpen={removing !== undefined} onOpenChange={(open) => { if (!open) setRemoving(undefined) }} withReason={false} danger
        title={`Remove ${removing?.accountId ?? ""}?`} confirmLabel="Remove"
        description="CanaryRoll forgets its token. An account a registered Worker uses cannot be removed: remove those Workers first."
        onConfirm={async () => {
          if (removing === undefined) return
          await change((client) => client.teams.removeCloudflareAccount({ params: { team, accountId: removing.accountId } }))
          await refresh()
        }} />
    </>
  )
}
