/**
 * The team's members and their roles. An admin changes a role, removes someone or signs them out
 * everywhere. The last admin is protected: their role cannot be lowered and they cannot be
 * removed (the controls say why; the API refuses it too, 409).
 */
import type { Role } from "@canaryroll/api/Access"
import type { Member } from "@canaryroll/api/Schemas"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { Button } from "react-aria-components"
import { call, change, messageOf } from "../api/Client.ts"
import { meKey, roleNames } from "../session/Session.ts"
import { ConfirmDialog } from "../ui/LazyConfirmDialog.tsx"
import { Failed, Loading } from "../ui/States.tsx"
import { settingsKeys, timeText } from "./SettingsKeys.ts"

export const roles: ReadonlyArray<Role> = ["read_only", "deploy", "admin"]

type Pending = { readonly _tag: "Remove"; readonly member: Member } | { readonly _tag: "SignOut"; readonly member: Member }

export const Members = ({ team, myUserId }: { readonly team: string; readonly myUserId: string }) => {
  const queryClient = useQueryClient()
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [done, setDone] = useState<string | undefined>(undefined)
  const [pending, setPending] = useState<Pending | undefined>(undefined)
  const members = useQuery({ queryKey: settingsKeys.members(team), queryFn: () => call((client) => client.teams.listMembers({ params: { team } })) })
  if (members.isPending) return <Loading what="members" />
  if (members.isError) return <Failed error={members.error} retry={() => members.refetch()} />
  const admins = members.data.filter((member) => member.role === "admin").length
  const isLastAdmin = (member: Member) => member.role === "admin" && admins === 1
  const setRole = async (member: Member, role: Role) => {
    setProblem(undefined)
    setDone(undefined)
    try {
      await change((client) => client.teams.updateMember({ params: { team, userId: member.userId }, payload: { role } }))
      setDone(`${member.email} is now ${roleNames[role]}.`)
      // Lowering one's own role changes what this very page may show.
      if (member.userId === myUserId) await queryClient.invalidateQueries({ queryKey: meKey })
    } catch (error) {
      setProblem(messageOf(error))
    }
    await queryClient.invalidateQueries({ queryKey: settingsKeys.members(team) })
  }
  return (
    <>
      <table className="table" aria-label="Members">
        <thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Joined</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {members.data.map((member) => (
            <tr key={member.userId}>
              <th scope="row">{member.name} <div className="muted small">{member.email}{member.userId === myUserId ? " (you)" : ""}</div></th>
              <td>
                <label className="visually-hidden" htmlFor={`role-${member.userId}`}>Role of {member.email}</label>
                <select id={`role-${member.userId}`} className="native-select" value={member.role} disabled={isLastAdmin(member)}
                  onChange={(event) => setRole(member, event.target.value as Role)}>
                  {roles.map((role) => <option key={role} value={role}>{roleNames[role]}</option>)}
                </select>
                {isLastAdmin(member) ? <div className="muted small">The last admin: make someone else admin first.</div> : null}
              </td>
              <td>{timeText(member.joinedAt)}</td>
              <td className="actions">
                <Button className="button" aria-label={`Sign out everywhere: ${member.email}`} onPress={() => setPending({ _tag: "SignOut", member })}>Sign out everywhere</Button>
                <Button className="button danger" aria-label={`Remove ${member.email}`} isDisabled={isLastAdmin(member)} onPress={() => setPending({ _tag: "Remove", member })}>Remove</Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
      <p role="status" aria-live="polite" className="muted">{done ?? ""}</p>
      <ConfirmDialog isOpen={pending !== undefined} onOpenChange={(open) => { if (!open) setPending(undefined) }} withReason={false}
        danger={pending?._tag === "Remove"}
        title={pending === undefined ? "" : pending._tag === "Remove" ? `Remove ${pending.member.email}?` : `Sign ${pending.member.email} out everywhere?`}
        description={pending?._tag === "Remove"
          ? "They lose access to this team at once. Their account and their user tokens stay; they can be invited again."
          : "Every session of theirs ends; their user tokens are kept (they revoke those on their account page)."}
        confirmLabel={pending?._tag === "Remove" ? "Remove" : "Sign out everywhere"}
        onConfirm={async () => {
          if (pending === undefined) return
          const { member } = pending
          if (pending._tag === "Remove") await change((client) => client.teams.removeMember({ params: { team, userId: member.userId } }))
          else await change((client) => client.teams.endMemberSessions({ params: { team, userId: member.userId } }))
          setDone(pending._tag === "Remove" ? `Removed ${member.email}.` : `Signed ${member.email} out everywhere.`)
          await queryClient.invalidateQueries({ queryKey: settingsKeys.members(team) })
        }} />
    </>
  )
}
