/**
 * Readiness: whether this server can serve, for `/api/ready` (a load balancer's or an
 * orchestrator's readiness probe), and what is wrong at start-up, said plainly.
 *
 * Three checks, in order, each needing the one before: the database answers; its migrations are
 * current (every migration this code knows is recorded in `canaryroll_migrations`); the secret
 * key opens the sealed secrets (one is tried, the most recently saved, if any exist). A check
 * whose prerequisite failed is not run, so the answer names the first thing to fix.
 *
 * At start-up every sealed secret is tried: a key that cannot open them is reported as such
 * ("this CANARYROLL_SECRET_KEY cannot open 3 sealed secrets; start with the previous key"),
 * rather than surfacing later as a Cloudflare or webhook failure of the first release.
 *
 * What the checks ask the storage is the `Store` port: the Node runtime's Postgres layer asks the
 * database (`PgReadiness`); `layerMemory` has no database to lose and no migrations to miss, and
 * tries the key on the Cloudflare tokens of the memory directory (the notifier's store lists
 * channels per team only, so channel secrets are not tried there).
 *
 * @since 0.1.0
 */
import { MemoryDirectory, Storage } from "../index.ts"
import * as SecretSealer from "@canaryroll/notifier/SecretSealer"
import { Context, Effect, Layer, Option } from "effect"
import type { ReadinessCheck } from "@canaryroll/api/ApiError"
import * as SecretBox from "../security/SecretBox.ts"
import * as CloudflareAccounts from "./store/CloudflareAccounts.ts"

export interface Readiness {
  readonly ok: boolean
  readonly checks: ReadonlyArray<ReadinessCheck>
}

/** A sealed secret as stored, with what binds it to its record (its associated data). */
export type SealedSecret =
  | { readonly _tag: "CloudflareApiToken"; readonly rowId: string; readonly accountId: string; readonly sealed: string }
  | { readonly _tag: "ChannelSecret"; readonly channelId: string; readonly name: string; readonly sealed: string }

/** What the checks ask the storage; a failure's message says what went wrong, for the answer. */
export class Store extends Context.Service<Store, {
  /** One round trip. */
  readonly ping: Effect.Effect<void, Storage.StorageUnavailable>
  /** The migrations this code knows that the storage lacks, as `0010_sessions`, in order. */
  readonly missingMigrations: Effect.Effect<ReadonlyArray<string>, Storage.StorageUnavailable>
  /** The sealed secrets stored, the most recently saved first; at most `limit` when given. */
  readonly sealedSecrets: (
    options?: { readonly limit?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<SealedSecret>, Storage.StorageUnavailable>
}>()("@canaryroll/app/Readiness/Store") {}

/** How long the database may take to answer a probe before it counts as not answering. */
export const databaseTimeout = "3 seconds"

const associatedData = (secret: SealedSecret) =>
  secret._tag === "CloudflareApiToken"
    ? CloudflareAccounts.associatedData(secret.rowId)
    : SecretSealer.associatedData(secret.channelId, secret.name)

const describeSecret = (secret: SealedSecret) =>
  secret._tag === "CloudflareApiToken"
    ? `the Cloudflare API token of account ${secret.accountId}`
    : `the ${secret.name} of notification channel ${secret.channelId}`

/** How the server names its key in messages: the variable, or the file it came from. */
const keyName = (box: SecretBox.SecretBox["Service"]) =>
  box.keySource === SecretBox.keyVariable
    ? `this ${SecretBox.keyVariable}`
    : box.keySource === SecretBox.unnamedKeySource
    ? "this secret key"
    // Named by the runtime that handed it in: the Node server's key file, by its path.
    : `the secret key in ${box.keySource}`

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`

const databaseCheck = Effect.gen(function*() {
  const store = yield* Store
  const answered = yield* store.ping.pipe(Effect.timeoutOption(databaseTimeout), Effect.result)
  if (answered._tag === "Failure") {
    return { name: "database", ok: false, message: `the database does not answer: ${answered.failure.message}` } as const
  }
  if (Option.isNone(answered.success)) {
    return { name: "database", ok: false, message: `the database did not answer within ${databaseTimeout}` } as const
  }
  return { name: "database", ok: true, message: "the database answers" } as const
})

const migrationsCheck = Effect.gen(function*() {
  const store = yield* Store
  const missing = yield* store.missingMigrations.pipe(Effect.result)
  if (missing._tag === "Failure") {
    return { name: "migrations", ok: false, message: `cannot read the migrations table: ${missing.failure.message}` } as const
  }
  if (missing.success.length > 0) {
    return {
      name: "migrations",
      ok: false,
      message: `the database lacks ${plural(missing.success.length, "migration")} this server needs ` +
        `(${missing.success.join(", ")}); migrations run when a server starts: restart this one`
    } as const
  }
  return { name: "migrations", ok: true, message: "the migrations are current" } as const
})

const secretsCheck = Effect.gen(function*() {
  const box = yield* SecretBox.SecretBox
  const store = yield* Store
  const stored = yield* store.sealedSecrets({ limit: 1 }).pipe(Effect.result)
  if (stored._tag === "Failure") {
    return { name: "secrets", ok: false, message: `cannot read the sealed secrets: ${stored.failure.message}` } as const
  }
  const [secret] = stored.success
  if (secret === undefined) return { name: "secrets", ok: true, message: "no sealed secrets are stored yet" } as const
  const opened = yield* box.decrypt(secret.sealed, associatedData(secret)).pipe(Effect.result)
  if (opened._tag === "Failure") {
    return {
      name: "secrets",
      ok: false,
      // Anyone may ask (a load balancer does): which account or channel is not said here; the
      // start-up report in the server's log names them.
      message: opened.failure.reason === "unknownKey"
        ? `${keyName(box)} (key ${box.currentKeyId}) cannot open the sealed secrets, sealed with key ` +
          `${Option.getOrElse(SecretBox.keyIdOfSealed(secret.sealed), () => "unknown")}; start with the previous key ` +
          `(or keep it in ${SecretBox.previousKeysVariable})`
        : "a sealed secret cannot be opened with any key: it was altered, or copied from another record"
    } as const
  }
  return { name: "secrets", ok: true, message: "the secret key opens the sealed secrets" } as const
})

/** The checks, each run only when the one before passed. */
export const check: Effect.Effect<Readiness, never, Store | SecretBox.SecretBox> = Effect.gen(function*() {
  const checks: Array<ReadinessCheck> = []
  for (const next of [databaseCheck, migrationsCheck, secretsCheck]) {
    const result = yield* next
    checks.push(result)
    if (!result.ok) return { ok: false, checks }
  }
  return { ok: true, checks }
})

/** The sentence a 503 from `/api/ready` starts with: the failed check, named. */
export const summary = (readiness: Readiness): string =>
  readiness.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.message}`).join("; ") ||
  "ready"

export interface SecretsReport {
  readonly stored: number
  /** Sealed under a key the server does not have, by that key's id. */
  readonly unknownKey: ReadonlyMap<string, number>
  /** Altered, or moved to another row: no key would open them. */
  readonly unopenable: ReadonlyArray<string>
}

/** Tries the key on every sealed secret stored. */
export const trySecrets: Effect.Effect<SecretsReport, Storage.StorageUnavailable, Store | SecretBox.SecretBox> = Effect.gen(
  function*() {
    const box = yield* SecretBox.SecretBox
    const stored = yield* Store.use((store) => store.sealedSecrets())
    const unknownKey = new Map<string, number>()
    const unopenable: Array<string> = []
    for (const secret of stored) {
      const opened = yield* box.decrypt(secret.sealed, associatedData(secret)).pipe(Effect.result)
      if (opened._tag === "Success") continue
      if (opened.failure.reason === "unknownKey") {
        const id = Option.getOrElse(SecretBox.keyIdOfSealed(secret.sealed), () => "unknown")
        unknownKey.set(id, (unknownKey.get(id) ?? 0) + 1)
      } else {
        unopenable.push(describeSecret(secret))
      }
    }
    return { stored: stored.length, unknownKey, unopenable }
  }
)

/** The start-up message for a report, if anything is wrong. */
export const describeSecrets = (report: SecretsReport, box: SecretBox.SecretBox["Service"]): Option.Option<string> => {
  const lines: Array<string> = []
  const count = [...report.unknownKey.values()].reduce((sum, n) => sum + n, 0)
  if (count > 0) {
    const keys = [...report.unknownKey.keys()].join(", ")
    lines.push(
      `${keyName(box)} cannot open ${plural(count, "sealed secret")}; start with the previous key ` +
        `(they were sealed with key ${keys}, this one is ${box.currentKeyId}; keep the new key as ` +
        `${SecretBox.keyVariable} and the old one in ${SecretBox.previousKeysVariable} to rotate). ` +
        `Until then, releases on those Cloudflare accounts and messages to those channels fail, and /api/ready answers 503.`
    )
  }
  if (report.unopenable.length > 0) {
    lines.push(
      `${plural(report.unopenable.length, "sealed secret")} cannot be opened with any key: altered, or copied from ` +
        `another record (${report.unopenable.join("; ")}); save them again`
    )
  }
  return lines.length === 0 ? Option.none() : Option.some(lines.join("\n"))
}

/** Tries the key on the stored secrets once, at start-up, and says plainly what it cannot open. */
export const layerStartupReport: Layer.Layer<never, never, Store | SecretBox.SecretBox> = Layer
  .effectDiscard(
    Effect.gen(function*() {
      const box = yield* SecretBox.SecretBox
      const report = yield* trySecrets
      const problem = describeSecrets(report, box)
      if (Option.isSome(problem)) yield* Effect.logError(problem.value)
    }).pipe(
      Effect.catch((error) => Effect.logWarning(`could not try the secret key on the stored secrets: ${error.message}`))
    )
  )

/** Memory: always answering and current; the Cloudflare tokens of the memory directory, newest first. */
export const layerMemory: Layer.Layer<Store, never, MemoryDirectory.MemoryDirectory> = Layer.effect(
  Store,
  Effect.gen(function*() {
    const { accounts } = yield* MemoryDirectory.MemoryDirectory
    return Store.of({
      ping: Effect.void,
      missingMigrations: Effect.succeed([]),
      sealedSecrets: (options = {}) =>
        Effect.sync(() =>
          [...accounts.values()]
            .sort((a, b) => b.updatedAt - a.updatedAt || a.id.localeCompare(b.id))
            .slice(0, options.limit ?? Number.MAX_SAFE_INTEGER)
            .map((account): SealedSecret => ({
              _tag: "CloudflareApiToken",
              rowId: account.id,
              accountId: account.accountId,
              sealed: account.sealedApiToken
            }))
        )
    })
  })
)
