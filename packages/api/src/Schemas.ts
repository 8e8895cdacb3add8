/**
 * The shapes the API sends and receives, shared by the endpoint definitions and the OpenAPI
 * document. `Deployment` is the public `canaryroll/action@v1`'s contract (see docs/api.md):
 * its fields are never renamed or removed.
 *
 * @since 0.1.0
 */
import { Plan } from "@canaryroll/core"
import * as Channel from "@canaryroll/notifier/channel-config"
import * as NotificationEvent from "@canaryroll/notifier/notification-event"
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { Role } from "./Access.ts"

/**
 * Postgres cannot store U+0000 in a text column (it would refuse the statement, and the request
 * would end as a 503): every string a person sends is refused with it, as a 400 naming the field.
 * The server's request guard (`RequestErrors.nulField`) applies the same rule to every string of
 * every request; the schemas below say it where a field is defined.
 */
export const nulMessage = "must not contain the NUL character (\\u0000)"

const hasNul = (value: string) => value.includes("\u0000")

/**
 * The JSON Schema a check declares in the OpenAPI document: the bound it enforces (`maxLength`,
 * a `pattern`), so that the document says what the server refuses. Approximate (`true`): the
 * check says more than JSON Schema can (no NUL, a URL that parses).
 */
const declares = (fragment: { readonly maxLength: number; readonly minLength?: number; readonly pattern?: string }) => ({
  toJsonSchema: () => [fragment, true] as const
})

/** A string without NUL, at most `max` characters. */
export const Text = (max: number) =>
  Schema.String.check(
    Schema.makeFilter(
      (value: string) => hasNul(value) ? nulMessage : value.length > max ? `must be at most ${max} characters` : undefined,
      declares({ maxLength: max })
    )
  )

/**
 * What a path or a query names a thing by: an id (`wrk_…`, `dep_…`), a slug or a script name.
 * None is longer than 100 characters; a longer one names nothing, so it is refused (400) before
 * any lookup.
 */
export const Reference = Text(200)

/** The longest password accepted (the server's password policy says the same, 12 to 1,024 characters). */
export const maxPasswordLength = 1024

/**
 * A password as a request carries it. New passwords are checked against the server's policy
 * (12 to 1,024 characters, not only whitespace) by the handler, whose message names the field; a
 * password longer than any the policy accepts is refused here, before hashing.
 */
export const Password = Text(maxPasswordLength)

const trimmed = (field: string, max: number) =>
  Schema.String.check(
    Schema.makeFilter((value: string) =>
      value.trim() === ""
        ? `${field} must not be empty`
        : value.length > max
        ? `${field} must be at most ${max} characters`
        : hasNul(value)
        ? nulMessage
        : undefined, declares({ minLength: 1, maxLength: max }))
  )

export const Name = trimmed("name", 100)

/** Lowercase letters, digits and dashes; used in URLs, so never a valid id by accident. */
const slugPattern = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/

export const Slug = Schema.String.check(
  Schema.makeFilter((value: string) =>
    slugPattern.test(value)
      ? undefined
      : `must be 1 to 50 lowercase letters, digits or dashes, starting and ending with a letter or digit; got ${
        JSON.stringify(value.slice(0, 60))
      }`, declares({ minLength: 1, maxLength: 50, pattern: slugPattern.source }))
)

export const Email = Schema.String.check(
  Schema.makeFilter((value: string) =>
    value.length <= 254 && /^[^\s@\u0000]+@[^\s@\u0000]+\.[^\s@\u0000]+$/.test(value)
      ? undefined
      : `must be an email address, got ${JSON.stringify(value.slice(0, 60))}`, declares({ maxLength: 254 }))
)

/**
 * Whether a URL someone gave may become a link: it parses, and its scheme is `https:` or
 * `http:`. Anything else (`javascript:`, `data:`, `vbscript:`, a relative path) is text at best.
 * The release page applies the same rule when it renders a stored URL (pages/Pages.ts).
 */
export const isHttpUrl = (value: string): boolean => {
  if (hasNul(value)) return false
  try {
    const url = new URL(value)
    return url.protocol === "https:" || url.protocol === "http:"
  } catch {
    return false
  }
}

/** A link a person gives (a release's `ticketUrl`): an absolute `https:` or `http:` URL. */
export const HttpUrl = (max: number) =>
  Schema.String.check(
    Schema.makeFilter((value: string) =>
      value.length > max
        ? `must be at most ${max} characters`
        : isHttpUrl(value)
        ? undefined
        : `must be an absolute https: or http: URL, got ${JSON.stringify(value.slice(0, 60))}`, declares({ maxLength: max }))
  )

const IsoTime = Schema.String
const NullableIsoTime = Schema.NullOr(Schema.String)

export const User = Schema.Struct({
  id: Schema.String,
  email: Schema.String,
  name: Schema.String,
  createdAt: IsoTime
})
export type User = typeof User.Type

export const Team = Schema.Struct({
  id: Schema.String,
  slug: Schema.String,
  name: Schema.String,
  createdAt: IsoTime,
  /** The caller's role in it. */
  role: Role
})
export type Team = typeof Team.Type

export const Member = Schema.Struct({
  userId: Schema.String,
  email: Schema.String,
  name: Schema.String,
  role: Role,
  joinedAt: IsoTime
})

export type Member = typeof Member.Type

/** A signed-in session as its person sees it on the account page: never its secret. */
export const Session = Schema.Struct({
  id: Schema.String,
  createdAt: IsoTime,
  lastSeenAt: IsoTime,
  expiresAt: IsoTime,
  /** The browser that started it, as it said (`User-Agent`), if it did. */
  userAgent: Schema.NullOr(Schema.String),
  /** Whether this is the session the request came with. */
  current: Schema.Boolean
})
export type Session = typeof Session.Type

export const Invitation = Schema.Struct({
  id: Schema.String,
  email: Schema.String,
  role: Role,
  invitedBy: Schema.String,
  createdAt: IsoTime,
  expiresAt: IsoTime,
  status: Schema.Literals(["pending", "accepted", "revoked", "expired"])
})

export type Invitation = typeof Invitation.Type

/** An invitation as created: the only time its secret token is shown. */
export const IssuedInvitation = Schema.Struct({
  ...Invitation.fields,
  token: Schema.String,
  acceptUrl: Schema.String,
  /**
   * Whether the invitation email went out (the server's outgoing mail, `CANARYROLL_SMTP_URL`).
   * Always sent by this server; a server older than invitation emails omits it: read as `false`.
   */
  emailed: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  /**
   * Why it did not (no mail setting, the mail server unreachable or refusing), `null` when it
   * did. The invitation is saved either way: the admin passes `acceptUrl` on.
   */
  notEmailedReason: Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))
})

export const TeamToken = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  role: Role,
  /** `crt_abcd…wxyz`: enough to recognise it, never enough to use it. */
  display: Schema.String,
  createdBy: Schema.String,
  createdAt: IsoTime,
  lastUsedAt: NullableIsoTime,
  revokedAt: NullableIsoTime
})

export type TeamToken = typeof TeamToken.Type

export const IssuedTeamToken = Schema.Struct({ ...TeamToken.fields, token: Schema.String })

export const UserToken = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  display: Schema.String,
  createdAt: IsoTime,
  lastUsedAt: NullableIsoTime,
  revokedAt: NullableIsoTime
})

export type UserToken = typeof UserToken.Type

export const IssuedUserToken = Schema.Struct({ ...UserToken.fields, token: Schema.String })

export const CloudflareAccount = Schema.Struct({
  accountId: Schema.String,
  /** `abcd…wxyz` of the API token. */
  tokenDisplay: Schema.String,
  verifiedAt: IsoTime,
  updatedAt: IsoTime
})

export type CloudflareAccount = typeof CloudflareAccount.Type

export const AccountId = Schema.String.check(
  Schema.makeFilter((value: string) =>
    /^[0-9a-f]{32}$/.test(value) ? undefined : `must be a Cloudflare account id (32 hexadecimal characters), got ${JSON.stringify(value.slice(0, 60))}`, declares({ minLength: 32, maxLength: 32, pattern: "^[0-9a-f]{32}$" }))
)

const scriptNamePattern = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/

export const ScriptName = Schema.String.check(
  Schema.makeFilter((value: string) =>
    scriptNamePattern.test(value)
      ? undefined
      : `must be a Worker script name (1 to 63 lowercase letters, digits, dashes or underscores), got ${JSON.stringify(value.slice(0, 70))}`, declares({ minLength: 1, maxLength: 63, pattern: scriptNamePattern.source }))
)

export const PlanStep = Schema.Struct({ percentage: Schema.Number, waitSeconds: Schema.Number })

export const PlanView = Schema.Struct({
  id: Schema.String,
  slug: Schema.String,
  name: Schema.String,
  steps: Schema.Array(PlanStep),
  /** As stored: a plan saved before thresholds kept four decimals is still shown. */
  health: Plan.StoredHealthPolicy,
  createdAt: IsoTime,
  updatedAt: IsoTime
})
export type PlanView = typeof PlanView.Type

export const Worker = Schema.Struct({
  /** The Worker tag: what clients (and the GitHub Action) call `workerId`. */
  id: Schema.String,
  accountId: Schema.String,
  scriptName: Schema.String,
  defaultPlanId: Schema.String,
  /** Replaces the plan's health policy for this Worker's releases, when set. */
  healthPolicy: Schema.NullOr(Plan.StoredHealthPolicy),
  createdAt: IsoTime
})
export type Worker = typeof Worker.Type

export const WorkerVersion = Schema.Struct({
  id: Schema.String,
  number: Schema.Number,
  createdOn: Schema.NullOr(Schema.String),
  source: Schema.NullOr(Schema.String),
  message: Schema.NullOr(Schema.String),
  tag: Schema.NullOr(Schema.String)
})

export const LiveDeployment = Schema.Struct({
  deploymentId: Schema.String,
  versions: Schema.Array(Schema.Struct({ versionId: Schema.String, percentage: Schema.Number }))
})

export const Status = Schema.Literals(["pending", "in_progress", "paused", "completed", "rolled_back", "failed", "cancelled"])
export type Status = typeof Status.Type

/** A release, as the API (and the GitHub Action) calls it. */
export const Deployment = Schema.Struct({
  id: Schema.String,
  workerId: Schema.String,
  teamId: Schema.String,
  planId: Schema.NullOr(Schema.String),
  cfVersionId: Schema.String,
  cfPreviousVersionId: Schema.NullOr(Schema.String),
  status: Status,
  currentStep: Schema.Number,
  currentPercentage: Schema.Number,
  autoAdvance: Schema.Boolean,
  name: Schema.NullOr(Schema.String),
  ticketUrl: Schema.NullOr(Schema.String),
  stepsSnapshot: Schema.Array(PlanStep),
  statusReason: Schema.NullOr(Schema.String),
  rollbackReason: Schema.NullOr(Schema.String),
  startedAt: NullableIsoTime,
  completedAt: NullableIsoTime,
  createdAt: IsoTime,
  updatedAt: IsoTime
})
export type Deployment = typeof Deployment.Type

/**
 * A release as every CanaryRoll server sends it, the hosted one and older ones too: the public
 * `canaryroll/action@v1` contract. The fields only our server sends are optional here; clients
 * that may call another server (the GitHub Action, the CLI) read releases with this.
 */
export const PublicDeployment = Schema.Struct({
  ...Deployment.fields,
  currentPercentage: Schema.optional(Schema.Number),
  statusReason: Schema.optional(Schema.NullOr(Schema.String)),
  rollbackReason: Schema.optional(Schema.NullOr(Schema.String)),
  updatedAt: Schema.optional(IsoTime)
})
export type PublicDeployment = typeof PublicDeployment.Type

export const terminalStatuses: ReadonlyArray<Status> = ["completed", "rolled_back", "failed", "cancelled"]

/** Whether a release with this status is over (nothing will change it any more). */
export const isTerminal = (status: Status): boolean => terminalStatuses.includes(status)

export const DeploymentEvent = Schema.Struct({
  id: Schema.String,
  deploymentId: Schema.String,
  eventType: Schema.String,
  stepIndex: Schema.NullOr(Schema.Number),
  percentage: Schema.NullOr(Schema.Number),
  /** The event's facts, plus `message`: the sentence the audit log shows. */
  details: Schema.Record(Schema.String, Schema.Unknown),
  createdAt: IsoTime
})
export type DeploymentEvent = typeof DeploymentEvent.Type

export const PreflightCheck = Schema.Struct({
  name: Schema.String,
  passed: Schema.Boolean,
  message: Schema.optional(Schema.String)
})

export const Preflight = Schema.Struct({ passed: Schema.Boolean, checks: Schema.Array(PreflightCheck) })
export type Preflight = typeof Preflight.Type

export const AuditActor = Schema.Struct({
  kind: Schema.Literals(["user", "token", "system"]),
  id: Schema.NullOr(Schema.String),
  name: Schema.NullOr(Schema.String)
})

export const AuditEntry = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  at: IsoTime,
  actor: AuditActor,
  deploymentId: Schema.NullOr(Schema.String),
  workerId: Schema.NullOr(Schema.String),
  stepIndex: Schema.NullOr(Schema.Number),
  percentage: Schema.NullOr(Schema.Number),
  message: Schema.String,
  details: Schema.Record(Schema.String, Schema.Unknown)
})

/**
 * A notification channel as shown: a URL as its scheme and host (`https://hooks.slack.com/…`,
 * the rest is a credential), whether a password or signing secret is set, never a secret.
 * Created and updated with the notifier's `Channel.ChannelInput` and `Channel.ChannelPatch`; all
 * three are derived from the notifier's registry of channel kinds (`ChannelKinds.standard`).
 */
export const NotificationChannelConfig = Channel.ConfigView

export const NotificationChannel = Schema.Struct({
  id: Schema.String,
  teamId: Schema.String,
  name: Schema.String,
  kind: Channel.Kind,
  events: Schema.Array(NotificationEvent.EventName),
  enabled: Schema.Boolean,
  config: NotificationChannelConfig,
  createdAt: IsoTime,
  updatedAt: IsoTime
})
export type NotificationChannel = typeof NotificationChannel.Type

/** A channel as created or updated: a webhook's generated signing secret is shown this once. */
export const SavedNotificationChannel = Schema.Struct({
  ...NotificationChannel.fields,
  /** `whsec_…` when one was generated (a new webhook channel without a secret, or a rotation); `null` otherwise. */
  signingSecret: Schema.NullOr(Schema.String)
})

export const DeliveryStatus = Schema.Literals(["pending", "delivered", "failed"])

/** One message to one channel, and how sending it went. */
export const NotificationDelivery = Schema.Struct({
  id: Schema.String,
  channelId: Schema.String,
  /** The release event's id (`releaseId:version`), or `test:…` for a test message. */
  eventId: Schema.String,
  /** The event name the channel subscribed to, or `test`. */
  event: Schema.Literals([...NotificationEvent.names, "test"]),
  releaseId: Schema.String,
  title: Schema.String,
  status: DeliveryStatus,
  attempts: Schema.Number,
  lastError: Schema.NullOr(Schema.String),
  lastStatusCode: Schema.NullOr(Schema.Number),
  /** When a pending delivery is tried next. */
  nextAttemptAt: NullableIsoTime,
  createdAt: IsoTime,
  completedAt: NullableIsoTime
})

// Query parameters: parsed here, so a handler gets values, and a wrong one is a 400 naming it
// (`status: unknown status "bogus"; …`) before any handler runs.

/** The most a list endpoint hands out in one page (the read models enforce it too). */
export const maxLimit = 200

/** `?limit=`: an integer from 1 to `maxLimit` (a query's text is short: at most 10 characters). */
export const Limit = Text(10).pipe(Schema.decodeTo(Schema.Number, SchemaTransformation.numberFromString)).check(
  Schema.makeFilter((value: number) =>
    Number.isInteger(value) && value >= 1 && value <= maxLimit ? undefined : `must be an integer from 1 to ${maxLimit}, got ${value}`
  )
)

/** One value or several, comma-separated (`?status=pending,paused`), as a list; blanks are dropped. */
export const CommaSeparated = Text(1000).pipe(
  Schema.decodeTo(
    Schema.Array(Schema.String),
    SchemaTransformation.transform({
      decode: (text: string): ReadonlyArray<string> => text.split(",").map((item) => item.trim()).filter((item) => item !== ""),
      encode: (items: ReadonlyArray<string>) => items.join(",")
    })
  )
)

const statusNames: ReadonlyArray<string> = Status.literals
const isStatus = (item: string): item is Status => statusNames.includes(item)

/** `?status=`: release statuses, comma-separated. */
export const StatusList = CommaSeparated.pipe(
  Schema.decodeTo(
    Schema.Array(Status),
    SchemaTransformation.transformEffect({
      decode: (items: ReadonlyArray<string>) =>
        items.every(isStatus)
          ? Effect.succeed(items)
          : Effect.fail(
            new SchemaIssue.InvalidValue({
              message: `unknown status ${JSON.stringify(items.find((item) => !isStatus(item)))}; known: ${statusNames.join(", ")}`
            }, items)
          ),
      encode: (statuses: ReadonlyArray<Status>) => Effect.succeed(statuses)
    })
  )
)

/** Who acted, as the audit log filters by it: `user:{id}`, `token:{id}` or `system`. */
export type ActorFilter =
  | { readonly _tag: "User"; readonly id: string }
  | { readonly _tag: "Token"; readonly id: string }
  | { readonly _tag: "System" }

const ActorFilterType = Schema.Union([
  Schema.TaggedStruct("User", { id: Schema.String }),
  Schema.TaggedStruct("Token", { id: Schema.String }),
  Schema.TaggedStruct("System", {})
])

/** `?actor=`: `user:{id}`, `token:{id}` or `system`. */
export const Actor = Text(200).pipe(
  Schema.decodeTo(
    ActorFilterType,
    SchemaTransformation.transformEffect({
      decode: (text: string) => {
        if (text === "system") return Effect.succeed<ActorFilter>({ _tag: "System" })
        const match = /^(user|token):(.+)$/.exec(text)
        return match === null
          ? Effect.fail(
            new SchemaIssue.InvalidValue({ message: `must be user:<id>, token:<id> or system, got ${JSON.stringify(text)}` }, text)
          )
          : Effect.succeed<ActorFilter>({ _tag: match[1] === "user" ? "User" : "Token", id: match[2]! })
      },
      encode: (actor: ActorFilter) =>
        Effect.succeed(actor._tag === "System" ? "system" : `${actor._tag === "User" ? "user" : "token"}:${actor.id}`)
    })
  )
)

/** `?from=`, `?to=`: an ISO 8601 time, as epoch milliseconds. */
export const Time = Text(100).pipe(
  Schema.decodeTo(
    Schema.Number,
    SchemaTransformation.transformEffect({
      decode: (text: string) => {
        const ms = Date.parse(text)
        return Number.isFinite(ms)
          ? Effect.succeed(ms)
          : Effect.fail(
            new SchemaIssue.InvalidValue({ message: `must be an ISO 8601 time, got ${JSON.stringify(text)}` }, text)
          )
      },
      encode: (ms: number) => Effect.succeed(new Date(ms).toISOString())
    })
  )
)
