/**
 * The HealthSource port on Cloudflare's GraphQL Analytics API (`workersInvocationsAdaptive`).
 *
 * Batching: health windows end on interval boundaries (see core's NextAction), so the releases of
 * one account ask about the same instants. The first request for a window end fetches per-minute
 * rows for every script and version of the account, from `lookback` before that end; every other
 * request of that account whose window lies inside is answered from the same rows. One query per
 * account per interval, however many releases run there: the cost does not grow with releases.
 *
 * An account with more rows than one page holds is read page by page (by minute), never cut.
 * Minute rows are prorated at a window's edges. A query over CanaryRoll's share of the GraphQL
 * budget, a GraphQL error or an unreachable API make the check inconclusive, never a verdict.
 *
 * @since 0.1.0
 */
import { type HealthCheck, HealthSource } from "@canaryroll/core"
import { Clock, Deferred, Effect, Layer, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { ApiBudget } from "./ApiBudget.ts"
import { CloudflareCredentials } from "./Credentials.ts"

export interface Options {
  /** How far before a window's end each account query reaches (default 15 minutes). */
  readonly lookbackSeconds?: number | undefined
  /** Row limit of one query (Cloudflare's page size; default 10,000). */
  readonly rowLimit?: number | undefined
  /**
   * How long fetched rows may answer other releases (default 30 s). Releases checking the same
   * boundary with the same analytics delay ask within seconds of each other; a release asking
   * later (a longer delay) gets rows fetched for it, since Cloudflare keeps filling in the last
   * minutes and older rows may undercount.
   */
  readonly reuseSeconds?: number | undefined
}

export const query = `query CanaryRollHealth($accountTag: string!, $start: Time!, $end: Time!, $limit: uint64!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      workersInvocationsAdaptive(
        limit: $limit
        filter: { datetime_geq: $start, datetime_lt: $end }
        orderBy: [datetimeMinute_ASC]
      ) {
        dimensions { scriptName scriptVersion datetimeMinute }
        sum { requests errors }
        quantiles { cpuTimeP50 cpuTimeP99 }
      }
    }
  }
}`

const Row = Schema.Struct({
  dimensions: Schema.Struct({
    scriptName: Schema.String,
    scriptVersion: Schema.String,
    datetimeMinute: Schema.String
  }),
  sum: Schema.Struct({ requests: Schema.Finite, errors: Schema.Finite }),
  quantiles: Schema.optionalKey(Schema.Struct({
    cpuTimeP50: Schema.optionalKey(Schema.NullOr(Schema.Finite)),
    cpuTimeP99: Schema.optionalKey(Schema.NullOr(Schema.Finite))
  }))
})

const Response = Schema.Struct({
  data: Schema.NullOr(Schema.Struct({
    viewer: Schema.Struct({
      accounts: Schema.Array(Schema.Struct({ workersInvocationsAdaptive: Schema.Array(Row) }))
    })
  })),
  errors: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({ message: Schema.String }))))
})

/**
 * One row: a version's traffic in one minute, as far as the query covered that minute. A query
 * whose start or end falls inside a minute gets only that part of it, so the row's counts belong
 * to `[from, to)`, not to the whole minute.
 */
export interface Bucket {
  readonly from: number
  readonly to: number
  readonly requests: number
  readonly errors: number
  readonly cpuTimeP50?: number | undefined
  readonly cpuTimeP99?: number | undefined
}

/** One account's rows for `[start, end)`, by `script/version`. */
interface Snapshot {
  readonly start: number
  readonly end: number
  readonly fetchedAt: number
  readonly buckets: ReadonlyMap<string, ReadonlyArray<Bucket>>
}

const minuteMs = 60_000
const bucketKey = (scriptName: string, versionId: string) => `${scriptName}/${versionId}`

const unavailable = (message: string) => new HealthSource.HealthSourceUnavailable({ message })

/** Sums the rows overlapping `[start, end)`, prorating rows the window only partly covers. */
export const sampleOf = (buckets: ReadonlyArray<Bucket>, start: number, end: number): HealthCheck.VersionSample => {
  let requests = 0
  let errors = 0
  let cpuWeight = 0
  let cpuP50 = 0
  let cpuP99 = 0
  for (const bucket of buckets) {
    const overlap = Math.min(end, bucket.to) - Math.max(start, bucket.from)
    if (overlap <= 0) continue
    const share = overlap / (bucket.to - bucket.from)
    requests += bucket.requests * share
    errors += bucket.errors * share
    if (bucket.cpuTimeP50 !== undefined && bucket.cpuTimeP99 !== undefined) {
      // Quantiles cannot be merged exactly; a request-weighted mean is a fair summary.
      const weight = bucket.requests * share
      cpuWeight += weight
      cpuP50 += bucket.cpuTimeP50 * weight
      cpuP99 += bucket.cpuTimeP99 * weight
    }
  }
  const sample = { requests: Math.round(requests), errors: Math.round(errors) }
  return cpuWeight > 0
    ? { ...sample, cpuTimeP50Ms: cpuP50 / cpuWeight / 1000, cpuTimeP99Ms: cpuP99 / cpuWeight / 1000 }
    : sample
}

export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const credentials = yield* CloudflareCredentials
    const budget = yield* ApiBudget
    const http = yield* HttpClient.HttpClient
    const lookbackMs = (options.lookbackSeconds ?? 15 * 60) * 1000
    const reuseMs = (options.reuseSeconds ?? 30) * 1000
    const snapshots = new Map<string, Snapshot>()
    /** Queries under way, by `account@end`, so simultaneous requests share one. */
    const inFlight = new Map<string, Deferred.Deferred<Snapshot, HealthSource.HealthSourceUnavailable>>()

    const rowLimit = options.rowLimit ?? 10_000

    /** One query: the rows of `[start, end)`, oldest minute first, at most `rowLimit`. */
    const fetchPage = (accountId: string, token: string, baseUrl: string, start: number, end: number) =>
      Effect.gen(function*() {
        yield* budget.take(token, "graphql").pipe(Effect.mapError((e) => unavailable(e.message)))
        const request = HttpClientRequest.post(`${baseUrl}/graphql`).pipe(
          HttpClientRequest.bearerToken(token),
          HttpClientRequest.bodyJsonUnsafe({
            query,
            variables: {
              accountTag: accountId,
              start: new Date(start).toISOString(),
              end: new Date(end).toISOString(),
              limit: rowLimit
            }
          })
        )
        const response = yield* http.execute(request).pipe(
          Effect.timeout("20 seconds"),
          Effect.mapError((e) => unavailable(`Cloudflare analytics unreachable: ${e.message}`))
        )
        if (response.status === 429) {
          const retryAfter = Number(response.headers["retry-after"] ?? 300)
          yield* budget.block(token, "graphql", Number.isFinite(retryAfter) ? retryAfter : 300)
          return yield* unavailable("Cloudflare analytics rate limit reached (429)")
        }
        if (response.status >= 400) return yield* unavailable(`Cloudflare analytics answered HTTP ${response.status}`)
        const body = yield* HttpClientResponse.schemaBodyJson(Response)(response).pipe(
          Effect.mapError((e) => unavailable(`unexpected analytics response: ${e.message}`))
        )
        if (body.errors !== undefined && body.errors !== null && body.errors.length > 0) {
          return yield* unavailable(`Cloudflare analytics: ${body.errors.map((e) => e.message).join("; ")}`)
        }
        return (body.data?.viewer.accounts ?? []).flatMap((account) => account.workersInvocationsAdaptive)
      })

    /**
     * Every row of `[start, end)`. A full page may have cut its last minute short, so the next
     * page starts at that minute and the partial minute of this one is dropped: an account with
     * more rows than a page costs more queries, never missing data.
     */
    const fetchSnapshot = (accountId: string, start: number, end: number) =>
      Effect.gen(function*() {
        const creds = yield* credentials.forAccount(accountId).pipe(Effect.mapError((e) => unavailable(e.message)))
        const token = Redacted.value(creds.apiToken)
        const buckets = new Map<string, Array<Bucket>>()
        let from = start
        while (from < end) {
          const rows = yield* fetchPage(accountId, token, creds.baseUrl, from, end)
          const full = rows.length >= rowLimit
          const lastMinute = full ? Date.parse(rows[rows.length - 1]!.dimensions.datetimeMinute) : end
          if (full && lastMinute <= from) {
            return yield* unavailable(`one minute of account ${accountId} has more than ${rowLimit} analytics rows`)
          }
          for (const row of rows) {
            const minute = Date.parse(row.dimensions.datetimeMinute)
            if (full && minute >= lastMinute) continue
            const key = bucketKey(row.dimensions.scriptName, row.dimensions.scriptVersion)
            const list = buckets.get(key) ?? []
            list.push({
              from: Math.max(minute, from),
              to: Math.min(minute + minuteMs, end),
              requests: row.sum.requests,
              errors: row.sum.errors,
              cpuTimeP50: row.quantiles?.cpuTimeP50 ?? undefined,
              cpuTimeP99: row.quantiles?.cpuTimeP99 ?? undefined
            })
            buckets.set(key, list)
          }
          from = lastMinute
        }
        const snapshot: Snapshot = { start, end, fetchedAt: yield* Clock.currentTimeMillis, buckets }
        snapshots.set(accountId, snapshot)
        return snapshot
      })

    /** The account's rows covering `[start, end)`: cached, joined while in flight, or fetched. */
    const snapshotFor = (accountId: string, start: number, end: number) =>
      Effect.gen(function*() {
        const cached = snapshots.get(accountId)
        const now = yield* Clock.currentTimeMillis
        if (cached !== undefined && cached.start <= start && cached.end >= end && now - cached.fetchedAt <= reuseMs) {
          return cached
        }
        const key = `${accountId}@${end}`
        const pending = inFlight.get(key)
        if (pending !== undefined) {
          const shared = yield* Deferred.await(pending)
          if (shared.start <= start) return shared
        }
        const deferred = yield* Deferred.make<Snapshot, HealthSource.HealthSourceUnavailable>()
        inFlight.set(key, deferred)
        return yield* fetchSnapshot(accountId, Math.min(start, end - lookbackMs), end).pipe(
          Effect.exit,
          Effect.tap((exit) => Deferred.done(deferred, exit)),
          Effect.ensuring(Effect.sync(() => inFlight.delete(key))),
          Effect.flatten
        )
      })

    return HealthSource.HealthSource.of({
      sample: (request) =>
        snapshotFor(request.target.accountId, request.window.start, request.window.end).pipe(
          Effect.map((snapshot) =>
            new Map(request.versionIds.map((versionId) => [
              versionId,
              sampleOf(
                snapshot.buckets.get(bucketKey(request.target.scriptName, versionId)) ?? [],
                request.window.start,
                request.window.end
              )
            ]))
          )
        )
    })
  })

export const layer = (options: Options = {}) => Layer.effect(HealthSource.HealthSource, make(options))
