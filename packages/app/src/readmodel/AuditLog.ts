/**
 * AuditLog port: one log per team of everything anyone or anything did. Release entries are the
 * core's `AuditEntry`, folded from the release events; settings entries record changes to a
 * team's settings (members, invitations, tokens, Cloudflare credentials, Workers, plans, channels)
 * and to its members' sessions, which are plain rows, so whoever makes such a change records it
 * here (`record`) inside the `Transactions.atomically` that makes it.
 *
 * Pages are newest first and keyset-paginated on `(at, position)`: a release entry's position is
 * its event's global position, a settings entry's comes from its own counter starting at 2^62
 * (`settingsPositionsStart`), never an event's; a walk sees every entry once however deep it goes
 * and whatever is appended meanwhile. Filters: release, actor, entry types, a time range.
 *
 * Contract (the `AuditLogContract` suite in `@canaryroll/app/testing`): a release's entries are
 * `AuditEntry.project` of its stream as soon as the append returned; a recorded change is a
 * settings entry with the change's facts; walking the pages of any filter returns every matching
 * entry of the team once, newest first, and nothing of another team; a query it cannot answer
 * fails with `InvalidQuery` naming the field; storage failing is `StorageUnavailable`.
 *
 * The memory layer folds the events of the `EventStore` in context (see `ReleaseProjection`) and
 * keeps settings entries in memory (undone with a failed `Transactions.atomically`); the Postgres
 * layer (`PgAuditLog` in `@canaryroll/postgres`) reads and writes `audit_log`.
 *
 * @since 0.2.0
 */
import { type Actor, type AuditEntry, type EventStore, Id, ReleaseEvent } from "@canaryroll/core"
import { Context, Effect, Layer } from "effect"
import { recordUndo, type StorageUnavailable } from "../Storage.ts"
import * as Keyset from "./Keyset.ts"
import * as ReleaseProjection from "./ReleaseProjection.ts"

/** The kinds of settings change, as stored (`audit_log.type`): a storage contract, like event types. */
export const changeTypes = [
  "TeamCreated",
  "TeamUpdated",
  "MemberAdded",
  "MemberRoleChanged",
  "MemberRemoved",
  "InvitationCreated",
  "InvitationAccepted",
  "InvitationRevoked",
  "TeamTokenCreated",
  "TeamTokenRevoked",
  "CloudflareCredentialsSaved",
  "CloudflareCredentialsRemoved",
  "WorkerRegistered",
  "WorkerUpdated",
  "WorkerRemoved",
  "PlanCreated",
  "PlanUpdated",
  "PlanDeleted",
  "NotificationChannelCreated",
  "NotificationChannelUpdated",
  "NotificationChannelDeleted",
  // A member's sessions: their password changed (their other sessions ended), they logged out
  // everywhere, or an admin of the team ended their sessions.
  "PasswordChanged",
  "SessionsEnded",
  "MemberSessionsEnded"
] as const

export type ChangeType = typeof changeTypes[number]

const knownChanges: ReadonlySet<string> = new Set(changeTypes)

export const isChangeType = (type: string): type is ChangeType => knownChanges.has(type)

/** Every type an entry may have: a release event's or a settings change's. */
export type EntryType = ReleaseEvent.ReleaseEventType | ChangeType

/** A change to a team's settings, as the code making it records it. */
export interface SettingsChange {
  readonly teamId: string
  readonly type: ChangeType
  readonly actor: Actor.Actor
  /** Epoch milliseconds, from the caller's Clock: the cursor compares times to the millisecond. */
  readonly at: number
  /** The Worker the change is about, when there is one. */
  readonly workerId?: string | null | undefined
  /** What happened, for a person: "alice@example.com created the team token ci (deploy)". */
  readonly sentence: string
  /** The change's facts. Never a secret: callers pass displays (`crt_ab…yz`), not values. */
  readonly details: Readonly<Record<string, unknown>>
}

/** A settings change in the log: no release, no step. */
export interface SettingsEntry {
  readonly id: string
  readonly releaseId: null
  readonly teamId: string
  readonly workerId: string | null
  readonly type: ChangeType
  readonly actor: Actor.Actor
  readonly at: number
  readonly stepIndex: null
  readonly percentage: null
  readonly sentence: string
  readonly details: Readonly<Record<string, unknown>>
}

/** A release event's entry (the core's AuditEntry) or a settings change's. */
export type Entry = AuditEntry.AuditEntry | SettingsEntry

/** Who acted: a person or a token by id, or CanaryRoll itself. */
export type ActorFilter =
  | { readonly _tag: "User"; readonly id: string }
  | { readonly _tag: "Token"; readonly id: string }
  | { readonly _tag: "System" }

export interface Query {
  /** Required: the audit log is read one team at a time. */
  readonly teamId: string
  readonly releaseId?: string | undefined
  readonly actor?: ActorFilter | undefined
  /** Entries of any of these types; absent or empty: every type. */
  readonly types?: ReadonlyArray<EntryType> | undefined
  /** Entries at or after this time (epoch milliseconds). */
  readonly from?: number | undefined
  /** Entries strictly before this time (epoch milliseconds). */
  readonly to?: number | undefined
  /** At most `Keyset.maxLimit`; default `Keyset.defaultLimit`. */
  readonly limit?: number | undefined
  /** A previous page's `nextCursor`: this page continues after it. */
  readonly cursor?: string | undefined
}

export interface Page {
  /** Newest first; among entries of the same millisecond, the greatest position first. */
  readonly entries: ReadonlyArray<Entry>
  /** Where the next page starts; `null` on the last page. */
  readonly nextCursor: string | null
}

/** Where a page ends: the last entry's time and position. */
export interface Cursor {
  readonly at: number
  readonly position: bigint
}

export { InvalidQuery } from "./Keyset.ts"

export class AuditLog extends Context.Service<AuditLog, {
  readonly page: (query: Query) => Effect.Effect<Page, Keyset.InvalidQuery | StorageUnavailable>
  /** Records a settings change; run it inside the `Transactions.atomically` that makes the change. */
  readonly record: (change: SettingsChange) => Effect.Effect<void, StorageUnavailable>
}>()("@canaryroll/app/AuditLog") {}

/** Records a settings change with the `AuditLog` in context (see `AuditLog.record`). */
export const record = (change: SettingsChange): Effect.Effect<void, StorageUnavailable, AuditLog> =>
  AuditLog.use((log) => log.record(change))

/** The first position of settings entries: 2^62, far above any event's position. */
export const settingsPositionsStart = 2n ** 62n

/** The entry a change makes, under a new id. */
export const settingsEntry = (change: SettingsChange, id: string): SettingsEntry => ({
  id,
  releaseId: null,
  teamId: change.teamId,
  workerId: change.workerId ?? null,
  type: change.type,
  actor: change.actor,
  at: change.at,
  stepIndex: null,
  percentage: null,
  sentence: change.sentence,
  details: change.details
})

// Opaque to clients (they only hand it back), versioned in case the order ever changes.
export const encodeCursor = (cursor: Cursor): string => Keyset.encodeCursor(`a1:${cursor.at}:${cursor.position}`)

const decodeCursor = (cursor: string): Cursor | undefined => {
  const match = /^a1:(-?\d{1,16}):(-?\d{1,19})$/.exec(Keyset.decodeCursor(cursor) ?? "")
  return match === null ? undefined : { at: Number(match[1]), position: BigInt(match[2]!) }
}

/** A query, checked: what every adapter refuses, and the page size and cursor it asks for. */
export interface ValidQuery {
  readonly teamId: string
  readonly releaseId: string | undefined
  readonly actor: ActorFilter | undefined
  /** Distinct; empty: every type. */
  readonly types: ReadonlyArray<EntryType>
  readonly from: number | undefined
  readonly to: number | undefined
  readonly limit: number
  readonly cursor: Cursor | undefined
}

const knownTypes: ReadonlySet<string> = new Set([...ReleaseEvent.eventTypes, ...changeTypes])
const actorKinds: ReadonlySet<string> = new Set(["User", "Token", "System"] satisfies Array<Actor.Actor["_tag"]>)

const isTime = (n: unknown) => typeof n === "number" && Number.isFinite(n)

/** Checks what the types cannot: numbers in range, a cursor this port made, known names. */
export const validate = (query: Query): Effect.Effect<ValidQuery, Keyset.InvalidQuery> =>
  Effect.gen(function*() {
    const invalid = (field: string, message: string) => Effect.fail(new Keyset.InvalidQuery({ field, message }))
    const limit = yield* Keyset.limit(query.limit)
    if (query.teamId === "") return yield* invalid("teamId", "must not be empty")
    if (query.from !== undefined && !isTime(query.from)) return yield* invalid("from", "must be a time")
    if (query.to !== undefined && !isTime(query.to)) return yield* invalid("to", "must be a time")
    const unknownType = query.types?.find((type) => !knownTypes.has(type))
    if (unknownType !== undefined) {
      return yield* invalid("types", `unknown event type ${JSON.stringify(unknownType)}; known: ${[...knownTypes].join(", ")}`)
    }
    if (query.actor !== undefined && !actorKinds.has(query.actor._tag)) {
      return yield* invalid("actor", `must be a User, a Token or the System, got ${JSON.stringify(query.actor._tag)}`)
    }
    let cursor: Cursor | undefined
    if (query.cursor !== undefined) {
      cursor = decodeCursor(query.cursor)
      if (cursor === undefined) return yield* invalid("cursor", "is not a cursor this audit log handed out")
    }
    return {
      teamId: query.teamId,
      releaseId: query.releaseId,
      actor: query.actor,
      types: [...new Set(query.types ?? [])],
      from: query.from,
      to: query.to,
      limit,
      cursor
    }
  })

/** An entry and its position, as an adapter fetched it. */
export interface Positioned {
  readonly entry: Entry
  readonly position: bigint
}

/**
 * The page of `limit` from entries fetched newest first, one more than the page when there is a
 * next page (so no second query is needed to know).
 */
export const page = (fetched: ReadonlyArray<Positioned>, limit: number): Page => {
  const last = fetched.length > limit ? fetched[limit - 1] : undefined
  return {
    entries: fetched.slice(0, limit).map(({ entry }) => entry),
    nextCursor: last === undefined ? null : encodeCursor({ at: last.entry.at, position: last.position })
  }
}

const actorMatches = (actor: Actor.Actor, filter: ActorFilter | undefined): boolean =>
  filter === undefined ||
  (filter._tag === "System" ? actor._tag === "System" : actor._tag === filter._tag && actor.id === filter.id)

/** Whether an entry is one the (checked) query asks for, cursor included. */
const matches = (query: ValidQuery, types: ReadonlySet<string>) => ({ entry, position }: Positioned): boolean =>
  entry.teamId === query.teamId &&
  (query.releaseId === undefined || entry.releaseId === query.releaseId) &&
  actorMatches(entry.actor, query.actor) &&
  (types.size === 0 || types.has(entry.type)) &&
  (query.from === undefined || entry.at >= query.from) &&
  (query.to === undefined || entry.at < query.to) &&
  (query.cursor === undefined || entry.at < query.cursor.at ||
    (entry.at === query.cursor.at && position < query.cursor.position))

const newestFirst = (a: Positioned, b: Positioned) =>
  b.entry.at - a.entry.at || (a.position < b.position ? 1 : a.position > b.position ? -1 : 0)

/**
 * The log in memory: release entries folded from the `EventStore` in context (see
 * `ReleaseProjection`), settings entries kept here and undone with a failed transaction.
 */
export const makeMemory: Effect.Effect<typeof AuditLog.Service, never, EventStore.EventStore> = Effect.gen(function*() {
  const projection = yield* ReleaseProjection.make
  const settings: Array<Positioned> = []
  let nextPosition = settingsPositionsStart
  return AuditLog.of({
    page: (query) =>
      Effect.gen(function*() {
        const valid = yield* validate(query)
        yield* projection.catchUp
        const wanted = matches(valid, new Set(valid.types))
        const fetched = [...projection.entries, ...settings].filter(wanted).sort(newestFirst).slice(0, valid.limit + 1)
        return page(fetched, valid.limit)
      }),
    record: (change) =>
      Effect.suspend(() => {
        const positioned = { entry: settingsEntry(change, Id.makeUnsafe("settingsChange")), position: nextPosition++ }
        settings.push(positioned)
        return recordUndo(() => {
          const index = settings.indexOf(positioned)
          if (index !== -1) settings.splice(index, 1)
        })
      })
  })
})

export const layerMemory: Layer.Layer<AuditLog, never, EventStore.EventStore> = Layer.effect(AuditLog, makeMemory)
