/**
 * Add a Worker (admins): one of the team's Cloudflare accounts, one of its scripts as Cloudflare
 * lists them (those already added are shown, not offered), and the plan its releases use unless
 * a release names another.
 */
import type { PlanView } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { Button, Dialog, Heading, Label, ListBox, ListBoxItem, Modal, ModalOverlay, Popover, Select } from "react-aria-components"
import { call, messageOf } from "../api/Client.ts"
import { Failed, Loading } from "../ui/States.tsx"
import { PlanPicker } from "./PlanPicker.tsx"
import { SelectButton } from "../ui/SelectButton.tsx"

export const AddWorkerDialog = (props: {
  readonly team: string
  readonly isOpen: boolean
  readonly onOpenChange: (open: boolean) => void
  readonly plans: ReadonlyArray<PlanView>
}) => {
  const queryClient = useQueryClient()
  const accounts = useQuery({
    queryKey: ["cloudflare-accounts", props.team],
    queryFn: () => call((client) => client.teams.listCloudflareAccounts({ params: { team: props.team } })),
    enabled: props.isOpen
  })
  const [accountId, setAccountId] = useState<string | undefined>(undefined)
  const [scriptName, setScriptName] = useState("")
  const [planId, setPlanId] = useState<string | undefined>(undefined)
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const account = accountId ?? accounts.data?.[0]?.accountId
  const scripts = useQuery({
    queryKey: ["scripts", props.team, account],
    queryFn: () => call((client) => client.dashboard.listScripts({ params: { team: props.team, accountId: account! } })),
    enabled: props.isOpen && account !== undefined
  })
  const close = () => {
    setScriptName("")
    setProblem(undefined)
    props.onOpenChange(false)
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (account === undefined) return
    if (scriptName === "") {
      setProblem("Pick the Worker script to add.")
      return
    }
    setBusy(true)
    setProblem(undefined)
    try {
      await call((client) =>
        client.workers.registerWorker({
          params: { team: props.team },
          payload: { accountId: account, scriptName: scriptName.trim(), ...(planId === undefined ? {} : { defaultPlanId: planId }) }
        }))
      await queryClient.invalidateQueries({ queryKey: ["overview", props.team] })
      await queryClient.invalidateQueries({ queryKey: ["workers", props.team] })
      await queryClient.invalidateQueries({ queryKey: ["scripts", props.team] })
      close()
    } catch (error) {
      setProblem(messageOf(error))
    } finally {
      setBusy(false)
    }
  }
  return (
    <ModalOverlay className="overlay" isDismissable isOpen={props.isOpen} onOpenChange={(open) => open ? props.onOpenChange(true) : close()}>
      <Modal className="modal">
        <Dialog className="dialog">
          <Heading slot="title">Add a Worker</Heading>
          {accounts.isPending ? <Loading what="Cloudflare accounts" /> : accounts.isError ? <Failed error={accounts.error} /> : accounts.data.length === 0 ? (
            <p>This team has no Cloudflare account yet. Save an account id and an API token (Workers Scripts read and edit, Account Analytics read) with <code>PUT /api/teams/{props.team}/cloudflare/accounts/&#123;accountId&#125;</code> or <code>canaryroll</code>, then add its Workers here.</p>
          ) : (
            <form className="form" aria-label="Add a Worker" onSubmit={submit}>
              <Select className="select" selectedKey={account ?? null} onSelectionChange={(key) => setAccountId(String(key))}>
                <Label>Cloudflare account</Label>
                <SelectButton placeholder="Pick an account" />
                <Popover className="popover">
                  <ListBox className="menu" items={accounts.data.map((a) => ({ id: a.accountId }))}>
                    {(item) => <ListBoxItem className="menu-item" id={item.id}>{item.id}</ListBoxItem>}
                  </ListBox>
                </Popover>
              </Select>
              {scripts.isPending ? <Loading what="the account's Worker scripts" /> : scripts.isError ? <Failed error={scripts.error} retry={() => scripts.refetch()} /> : (
                <Select className="select" selectedKey={scriptName === "" ? null : scriptName} onSelectionChange={(key) => setScriptName(String(key))}
                  disabledKeys={scripts.data.filter((script) => script.workerId !== null).map((script) => script.scriptName)}>
                  <Label>Worker script</Label>
                  <SelectButton placeholder="Pick a script" />
                  <Popover className="popover">
                    <ListBox className="menu" items={scripts.data.map((script) => ({ ...script, id: script.scriptName }))}
                      renderEmptyState={() => <p className="muted">This account has no Worker scripts.</p>}>
                      {(script) => (
                        <ListBoxItem className="menu-item" id={script.scriptName} textValue={script.scriptName}>
                          {script.scriptName}{script.workerId === null ? "" : <span className="muted small"> (added already)</span>}
                        </ListBoxItem>
                      )}
                    </ListBox>
                  </Popover>
                </Select>
              )}
              <PlanPicker label="Default plan" visibleLabel plans={props.plans} selected={planId ?? props.plans.find((plan) => plan.slug === "standard")?.id}
                onSelect={(id) => setPlanId(id)} />
              {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
              <div className="buttons">
                <Button className="button" onPress={close} isDisabled={busy}>Cancel</Button>
                <button type="submit" className="button primary" disabled={busy}>{busy ? "Adding…" : "Add the Worker"}</button>
              </div>
            </form>
          )}
        </Dialog>
      </Modal>
    </ModalOverlay>
  )
}
