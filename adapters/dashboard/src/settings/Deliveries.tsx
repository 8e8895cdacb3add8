/** What was sent to the team's channels, newest first: status, attempts and the last error. */
import { useQuery } from "@tanstack/react-query"
import { useState } from "react"
import { call } from "../api/Client.ts"
import { Failed, Loading } from "../ui/States.tsx"
import { humanize } from "./ChannelKindForms.ts"
import { settingsKeys, timeText } from "./SettingsKeys.ts"

const statuses = ["pending", "delivered", "failed"] as const
type Status = (typeof statuses)[number]

export const Deliveries = ({ team }: { readonly team: string }) => {
  const [status, setStatus] = useState<Status | "">("")
  const channels = useQuery({ queryKey: settingsKeys.channels(team), queryFn: () => call((client) => client.notifications.listChannels({ params: { team } })) })
  const deliveries = useQuery({
    queryKey: [...settingsKeys.deliveries(team), status],
    queryFn: () => call((client) => client.notifications.listDeliveries({ params: { team }, query: { limit: 50, ...(status === "" ? {} : { status }) } })),
    refetchInterval: 10_000
  })
  const channelName = (id: string) => channels.data?.find((channel) => channel.id === id)?.name ?? id
  return (
    <>
      <div className="field inline">
        <label htmlFor="delivery-status">Show</label>
        <select id="delivery-status" className="native-select" value={status} onChange={(event) => setStatus(event.target.value as Status | "")}>
          <option value="">every status</option>
          {statuses.map((value) => <option key={value} value={value}>{value}</option>)}
        </select>
      </div>
      {deliveries.isPending ? <Loading what="deliveries" /> : deliveries.isError ? <Failed error={deliveries.error} retry={() => deliveries.refetch()} /> : deliveries.data.length === 0
        ? <p className="muted">Nothing sent yet.</p>
        : (
          <table className="table" aria-label="Deliveries">
            <thead><tr><th scope="col">Message</th><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Created</th></tr></thead>
            <tbody>
              {deliveries.data.map((delivery) => (
                <tr key={delivery.id}>
                  <th scope="row">{delivery.title} <div className="muted small">{delivery.event === "test" ? "test message" : humanize(delivery.event)}</div></th>
                  <td>{channelName(delivery.channelId)}</td>
                  <td><span className={`status delivery-${delivery.status}`}>{delivery.status}</span>{delivery.nextAttemptAt === null ? "" : <div className="muted small">next try {timeText(delivery.nextAttemptAt)}</div>}</td>
                  <td>{delivery.attempts}</td>
                  <td>{delivery.lastError ?? <span className="muted">—</span>}{delivery.lastStatusCode === null ? "" : ` (${delivery.lastStatusCode})`}</td>
                  <td>{timeText(delivery.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </>
  )
}
