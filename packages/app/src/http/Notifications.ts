/**
 * Handlers of the `notifications` group: a team's channels, test messages and recent deliveries,
 * through the `NotificationChannels` port (the notifier's `Channels` on Node: it seals every
 * secret before storing it and shows channels without them).
 *
 * Each channel change writes its audit entry in the same transaction (`Transactions.atomically`):
 * on Postgres the notifier's store runs on the server's SQL client, so its writes join it. Entries
 * describe a channel as its view does (a URL as scheme and host), never with a secret in them.
 * A generated webhook signing secret is in the response to the request that made it, and
 * nowhere else.
 *
 * @since 0.1.0
 */
import type { Channel, Channels, NotificationStore } from "@canaryroll/notifier"
import * as ChannelKinds from "@canaryroll/notifier/channel-config"
import { Effect, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { AuditLog, Storage as AppStorage } from "../index.ts"
import { CurrentTeam } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { BadRequest, type NotFound, notFound } from "@canaryroll/api/ApiError"
import * as NotificationChannels from "./NotificationChannels.ts"
import * as Storage from "./Storage.ts"
import { audit, now, transaction } from "./TeamSettings.ts"

/** The notifier's errors as the API answers them: 404, or 400 naming each field. (A store that is
 * down is the API's typed `StorageUnavailable`, 503 with `Retry-After`; see `Storage.unavailable`.) */
const answer = (error: Channel.ChannelNotFound | Channel.ChannelInvalid): Effect.Effect<never, NotFound | BadRequest> => {
  switch (error._tag) {
    case "ChannelNotFound":
      return Effect.fail(notFound("notification channel", error.channelId))
    case "ChannelInvalid":
      return Effect.fail(
        new BadRequest({
          error: "invalid_request",
          message: error.issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ") || error.message
        })
      )
  }
}

/** The response to a create or update: the view, and a generated signing secret this once. */
const shown = (saved: Channels.Saved) => ({
  ...saved.channel,
  signingSecret: saved.signingSecret === null ? null : Redacted.value(saved.signingSecret)
})


/** What an update changed, in words: "renamed it from a to b, disabled it". */
const describeUpdate = (before: Channel.ChannelView, after: Channel.ChannelView, patch: Channel.ChannelPatch) => {
  const changes: Array<string> = []
  if (after.name !== before.name) changes.push(`renamed it from ${before.name} to ${after.name}`)
  if (after.events.join() !== before.events.join()) changes.push(`set its events to ${after.events.join(", ")}`)
  if (after.enabled !== before.enabled) changes.push(after.enabled ? "enabled it" : "disabled it")
  if (patch.config !== undefined) changes.push("changed its configuration")
  if (patch.rotateSigningSecret === true) changes.push("rotated its signing secret")
  return changes.length === 0 ? "saved it unchanged" : changes.join(", ")
}

export const layer = HttpApiBuilder.group(Api, "notifications", (handlers) =>
  Effect.gen(function*() {
    const auditLog = yield* AuditLog.AuditLog
    const transactions = yield* AppStorage.Transactions
    const channels = yield* NotificationChannels.NotificationChannels
    const respond = <A, R>(
      effect: Effect.Effect<
        A,
        Channel.ChannelNotFound | Channel.ChannelInvalid | NotificationStore.NotificationStoreUnavailable | AppStorage.StorageUnavailable,
        R
      >
    ) =>
      Storage.unavailable(effect).pipe(
        Effect.catchTags({ ChannelNotFound: answer, ChannelInvalid: answer }),
        Effect.provideService(AuditLog.AuditLog, auditLog),
        Effect.provideService(AppStorage.Transactions, transactions)
      )

    return handlers
      .handle("listChannels", () => CurrentTeam.use(({ team }) => channels.list(team.id)).pipe(respond))
      .handle("getChannel", ({ params }) => CurrentTeam.use(({ team }) => channels.get(team.id, params.channelId)).pipe(respond))
      .handle("createChannel", ({ payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            const saved = yield* channels.create(team.id, payload)
            const channel = saved.channel
            yield* audit({
              type: "NotificationChannelCreated",
              at,
              sentence: (who) =>
                `${who} created the ${ChannelKinds.label(channel.kind)} notification channel ${channel.name} for ${channel.events.join(", ")}`,
              details: { channelId: channel.id, channel }
            })
            return shown(saved)
          }))
        }).pipe(respond))
      .handle("updateChannel", ({ params, payload }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          return yield* transaction(Effect.gen(function*() {
            const before = yield* channels.get(team.id, params.channelId)
            const saved = yield* channels.update(team.id, params.channelId, payload)
            yield* audit({
              type: "NotificationChannelUpdated",
              at,
              sentence: (who) =>
                `${who} updated the notification channel ${saved.channel.name}: ${describeUpdate(before, saved.channel, payload)}`,
              details: {
                channelId: params.channelId,
                before,
                after: saved.channel,
                rotatedSigningSecret: saved.signingSecret !== null
              }
            })
            return shown(saved)
          }))
        }).pipe(respond))
      .handle("deleteChannel", ({ params }) =>
        Effect.gen(function*() {
          const { team } = yield* CurrentTeam
          const at = yield* now
          yield* transaction(Effect.gen(function*() {
            const channel = yield* channels.get(team.id, params.channelId)
            yield* channels.remove(team.id, params.channelId)
            yield* audit({
              type: "NotificationChannelDeleted",
              at,
              sentence: (who) => `${who} deleted the ${ChannelKinds.label(channel.kind)} notification channel ${channel.name}`,
              details: { channelId: channel.id, channel }
            })
          }))
        }).pipe(respond))
      // Not audited: it changes no setting, and the message is listed among the deliveries.
      .handle("sendTestMessage", ({ params }) =>
        CurrentTeam.use(({ team }) => channels.sendTest(team.id, params.channelId)).pipe(respond))
      .handle("listDeliveries", ({ query }) =>
        CurrentTeam.use(({ team }) =>
          channels.deliveries(team.id, { channelId: query.channelId, status: query.status, limit: query.limit })
        ).pipe(respond))
  }))
