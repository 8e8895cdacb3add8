/**
 * The simulator's GraphQL Analytics API: `workersInvocationsAdaptive` answers computed from the
 * traffic model (request rate × the live split, per-version error rates), the data delay, grouping
 * and ordering, and Cloudflare's error shapes for bad queries and spent budgets. The clock is
 * pinned, so every figure is exact.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { type Fixture, setup, t0 } from "./support/SimulatorFixture.ts"

/** The per-version health query of the reference (§4), verbatim. */
const canaryHealth = `
  query CanaryHealth($accountTag: string!, $scriptName: string!, $start: Time!, $end: Time!) {
    viewer {
      accounts(filter: { accountTag: $accountTag }) {
        workersInvocationsAdaptive(
          limit: 10000
          filter: { scriptName: $scriptName, datetime_geq: $start, datetime_leq: $end }
        ) {
          dimensions { scriptVersion status }
          sum { requests errors subrequests }
          quantiles { cpuTimeP50 cpuTimeP99 wallTimeP50 wallTimeP99 }
        }
      }
    }
  }`

const minute = 60_000
const iso = (time: number) => new Date(time).toISOString().replace(".000Z", "Z")

interface GraphqlAnswer {
  readonly status: number
  readonly headers: Headers
  readonly body: { data: any; errors: null | Array<{ message: string; path: Array<string> | null; extensions: { timestamp: string } }> }
}

const graphql = async (
  fixture: Fixture,
  query: string,
  variables: Record<string, unknown> = {},
  token = fixture.apiToken
): Promise<GraphqlAnswer> => {
  const response = await fetch(`${fixture.sim.baseUrl}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables })
  })
  return { status: response.status, headers: response.headers, body: await response.json() as GraphqlAnswer["body"] }
}

const rowsOf = (answer: GraphqlAnswer, dataset = "workersInvocationsAdaptive"): Array<any> => {
  assert.strictEqual(answer.status, 200)
  assert.isNull(answer.body.errors, JSON.stringify(answer.body.errors))
  return answer.body.data.viewer.accounts[0][dataset]
}

/** Per-version totals from rows grouped by (scriptVersion, status). */
const perVersion = (rows: Array<any>) => {
  const totals = new Map<string, { requests: number; errors: number }>()
  for (const row of rows) {
    const total = totals.get(row.dimensions.scriptVersion) ?? { requests: 0, errors: 0 }
    total.requests += row.sum.requests
    total.errors += row.sum.errors
    totals.set(row.dimensions.scriptVersion, total)
  }
  return totals
}

let fixture: Fixture
let stable: string
let canary: string
const ref = () => ({ accountId: fixture.accountId, scriptName: fixture.scriptName })

/** 600 requests a minute; from t0 the canary (5% errors) gets 10%, the stable version 90%. */
beforeEach(async () => {
  fixture = await setup({ analyticsDelayMs: minute })
  stable = fixture.firstVersionId
  canary = fixture.sim.createVersion({ ...ref(), errorRate: 0.05 }).id
  await fixture.client.workers.scripts.deployments.create("storefront", {
    account_id: fixture.accountId,
    strategy: "percentage",
    versions: [{ version_id: canary, percentage: 10 }, { version_id: stable, percentage: 90 }]
  })
})
afterEach(async () => {
  await fixture.sim.close()
})

const window = (minutes: number) => ({
  accountTag: fixture.accountId,
  scriptName: "storefront",
  start: iso(t0),
  end: iso(t0 + minutes * minute)
})

describe("workersInvocationsAdaptive from the traffic model", () => {
  it("answers the reference's query with per-version requests and errors of the live split", async () => {
    fixture.sim.advanceClock(11 * minute) // the 10-minute window plus the 60 s delay
    const rows = rowsOf(await graphql(fixture, canaryHealth, window(10)))
    assert.deepStrictEqual(
      rows.map((row) => [row.dimensions.scriptVersion, row.dimensions.status, row.sum.requests, row.sum.errors]),
      [
        [canary, "scriptThrewException", 30, 30],
        [canary, "success", 570, 0],
        [stable, "success", 5400, 0]
      ].sort((a, b) => `${a[0]}${a[1]}`.localeCompare(`${b[0]}${b[1]}`))
    )
    const totals = perVersion(rows)
    assert.deepStrictEqual(totals.get(canary), { requests: 600, errors: 30 })
    assert.deepStrictEqual(totals.get(stable), { requests: 5400, errors: 0 })
    assert.deepStrictEqual(rows[0].quantiles, { cpuTimeP50: 850, cpuTimeP99: 4200, wallTimeP50: 12000, wallTimeP99: 95000 })
    assert.strictEqual(rows[0].sum.subrequests, 0)
  })

  it("is reachable through the SDK's generic client.post('/graphql')", async () => {
    fixture.sim.advanceClock(11 * minute)
    const body = await fixture.client.post("/graphql", { body: { query: canaryHealth, variables: window(10) } }) as any
    assert.isNull(body.errors)
    assert.strictEqual(body.data.viewer.accounts[0].workersInvocationsAdaptive.length, 3)
  })

  it("hides data newer than now − delay", async () => {
    fixture.sim.advanceClock(10 * minute)
    const query = `query($accountTag: string!, $start: Time!, $end: Time!) {
      viewer { accounts(filter: { accountTag: $accountTag }) {
        workersInvocationsAdaptive(limit: 1000, filter: { datetime_geq: $start, datetime_leq: $end }, orderBy: [datetimeMinute_ASC]) {
          dimensions { datetimeMinute }
          sum { requests }
        }
      } }
    }`
    const minutes = async () =>
      rowsOf(await graphql(fixture, query, window(10))).map((row) => [row.dimensions.datetimeMinute, row.sum.requests])
    // now = 10:10, delay 60 s: nothing after 10:09 yet.
    const visible = await minutes()
    assert.strictEqual(visible.length, 9)
    assert.deepStrictEqual(visible[0], ["2026-11-26T10:00:00Z", 600])
    assert.deepStrictEqual(visible.at(-1), ["2026-11-26T10:08:00Z", 600])
    fixture.sim.setAnalyticsDelay(3 * minute)
    assert.strictEqual((await minutes()).length, 7)
    fixture.sim.advanceClock(3 * minute)
    assert.strictEqual((await minutes()).length, 10)
  })

  it("groups by scriptName, scriptVersion and datetimeMinute across two Workers, with aliases", async () => {
    fixture.sim.createScript({ accountId: fixture.accountId, scriptName: "checkout-api", requestsPerMinute: 300 })
    fixture.sim.advanceClock(4 * minute)
    const answer = await graphql(
      fixture,
      `query($accountTag: string!, $start: Time!, $end: Time!) {
        viewer { accounts(filter: { accountTag: $accountTag }) {
          perMinute: workersInvocationsAdaptive(
            limit: 100
            filter: { scriptName_in: ["storefront", "checkout-api"], datetime_geq: $start, datetime_lt: $end }
            orderBy: [datetimeMinute_ASC]
          ) {
            d: dimensions { minute: datetimeMinute worker: scriptName scriptVersion }
            sum { requests errors }
          }
        } }
      }`,
      { accountTag: fixture.accountId, start: iso(t0), end: iso(t0 + 3 * minute) }
    )
    const rows = rowsOf(answer, "perMinute")
    assert.strictEqual(rows.length, 9) // 3 minutes × (checkout-api v1, storefront canary, storefront stable)
    assert.deepStrictEqual(rows.slice(0, 3).map((row) => [row.d.minute, row.d.worker, row.sum.requests]), [
      ["2026-11-26T10:00:00Z", "checkout-api", 300],
      ["2026-11-26T10:00:00Z", "storefront", canary < stable ? 60 : 540],
      ["2026-11-26T10:00:00Z", "storefront", canary < stable ? 540 : 60]
    ])
    assert.deepStrictEqual([...new Set(rows.map((row) => row.d.minute))], [
      "2026-11-26T10:00:00Z",
      "2026-11-26T10:01:00Z",
      "2026-11-26T10:02:00Z"
    ])
    // Errors of a 0.3-a-minute canary still add up: rounding runs on the window's totals.
    const canaryErrors = rows.filter((row) => row.d.scriptVersion === canary).reduce((sum, row) => sum + row.sum.errors, 0)
    assert.strictEqual(canaryErrors, 9) // 3 minutes × 60 requests × 5%
  })

  it("filters by status and by version, and honours limit", async () => {
    fixture.sim.advanceClock(11 * minute)
    const query = `query($accountTag: string!, $start: Time!, $end: Time!, $version: string) {
      viewer { accounts(filter: { accountTag: $accountTag }) {
        errors: workersInvocationsAdaptive(limit: 10, filter: { datetime_geq: $start, datetime_leq: $end, status: "scriptThrewException" }) {
          dimensions { scriptVersion }
          sum { requests errors }
        }
        stable: workersInvocationsAdaptive(limit: 10, filter: { datetime_geq: $start, datetime_leq: $end, scriptVersion: $version }) {
          sum { requests }
        }
        firstMinutes: workersInvocationsAdaptive(limit: 3, filter: { datetime_geq: $start, datetime_leq: $end, scriptVersion: $version }) {
          dimensions { datetime }
          avg { sampleInterval }
        }
      } }
    }`
    const answer = await graphql(fixture, query, { ...window(10), version: stable })
    const account = answer.body.data.viewer.accounts[0]
    assert.deepStrictEqual(account.errors, [{ dimensions: { scriptVersion: canary }, sum: { requests: 30, errors: 30 } }])
    assert.deepStrictEqual(account.stable, [{ sum: { requests: 5400 } }])
    assert.deepStrictEqual(account.firstMinutes, [
      { dimensions: { datetime: "2026-11-26T10:00:00Z" }, avg: { sampleInterval: 1 } },
      { dimensions: { datetime: "2026-11-26T10:01:00Z" }, avg: { sampleInterval: 1 } },
      { dimensions: { datetime: "2026-11-26T10:02:00Z" }, avg: { sampleInterval: 1 } }
    ])
  })

  it("follows an error-rate schedule, and later changes never rewrite the past", async () => {
    fixture.sim.setErrorRate({ ...ref(), versionId: canary, errorRate: [{ fromSeconds: 0, rate: 0 }, { fromSeconds: 300, rate: 0.5 }] })
    fixture.sim.advanceClock(11 * minute)
    const query = `query($accountTag: string!, $start: Time!, $end: Time!) {
      viewer { accounts(filter: { accountTag: $accountTag }) {
        workersInvocationsAdaptive(limit: 100, filter: { datetime_geq: $start, datetime_leq: $end, scriptVersion: "${canary}" }) {
          dimensions { datetimeMinute }
          sum { errors }
        }
      } }
    }`
    const errorsPerMinute = async () => rowsOf(await graphql(fixture, query, window(10))).map((row) => row.sum.errors)
    assert.deepStrictEqual(await errorsPerMinute(), [0, 0, 0, 0, 0, 30, 30, 30, 30, 30])
    fixture.sim.setErrorRate({ ...ref(), versionId: canary, errorRate: 1 })
    fixture.sim.setRequestRate({ ...ref(), requestsPerMinute: 6000 })
    assert.deepStrictEqual(await errorsPerMinute(), [0, 0, 0, 0, 0, 30, 30, 30, 30, 30])
  })

  it("answers the settings node with the dataset's limits", async () => {
    const answer = await graphql(
      fixture,
      `query($accountTag: string!) { viewer { accounts(filter: { accountTag: $accountTag }) {
        settings { workersInvocationsAdaptive { enabled maxDuration maxPageSize notOlderThan } }
      } } }`,
      { accountTag: fixture.accountId }
    )
    assert.deepStrictEqual(answer.body.data.viewer.accounts[0].settings, {
      workersInvocationsAdaptive: { enabled: true, maxDuration: 604800, maxPageSize: 10000, notOlderThan: 7948800 }
    })
  })
})

describe("GraphQL errors, as Cloudflare shapes them", () => {
  const failed = (answer: GraphqlAnswer, status = 200) => {
    assert.strictEqual(answer.status, status)
    assert.isNull(answer.body.data)
    assert.strictEqual(answer.body.errors?.length, 1)
    const error = answer.body.errors![0]!
    assert.isFalse(Number.isNaN(Date.parse(error.extensions.timestamp)))
    return error
  }

  it("rejects an unknown field even when no rows would come back", async () => {
    const error = failed(
      await graphql(fixture, canaryHealth.replace("subrequests", "subrequests cpuTimeUs"), window(10))
    )
    assert.strictEqual(error.message, `Unknown field "cpuTimeUs" on type "AccountWorkersInvocationsAdaptiveSum"`)
    assert.deepStrictEqual(error.path, ["viewer", "accounts", "0", "workersInvocationsAdaptive", "sum", "cpuTimeUs"])
  })

  it("rejects an unknown dimension, argument or filter field", async () => {
    const dimension = failed(await graphql(fixture, canaryHealth.replace("scriptVersion status", "scriptVersion coloCode"), window(10)))
    assert.match(dimension.message, /Unknown field "coloCode" on type "AccountWorkersInvocationsAdaptiveDimensions"/)
    const argument = failed(await graphql(fixture, canaryHealth.replace("limit: 10000", "limit: 10000, groupBy: x"), window(10)))
    assert.match(argument.message, /Unknown argument "groupBy" on field "account.workersInvocationsAdaptive"/)
    const filter = failed(
      await graphql(fixture, canaryHealth.replace("datetime_leq: $end", "datetime_leq: $end, coloCode: \"LHR\""), window(10))
    )
    assert.match(filter.message, /^error parsing args: unknown field "coloCode" in filter/)
    assert.deepStrictEqual(filter.path, ["viewer", "accounts", "0", "workersInvocationsAdaptive"])
    const scalar = failed(await graphql(fixture, canaryHealth.replace("cpuTimeP50 ", "cpuTimeP50 { value } "), window(10)))
    assert.strictEqual(scalar.message, "scalar fields must have not selections")
  })

  it("rejects syntax errors, missing variables and accounts the token cannot read", async () => {
    assert.match(failed(await graphql(fixture, "query { viewer {", {})).message, /Syntax Error/)
    const { start: _, ...withoutStart } = window(10)
    assert.strictEqual(
      failed(await graphql(fixture, canaryHealth, withoutStart)).message,
      `variable "$start" of required type "Time!" was not provided`
    )
    const other = fixture.sim.createAccount()
    const denied = failed(await graphql(fixture, canaryHealth, { ...window(10), accountTag: other.id }))
    assert.match(denied.message, /^does not have access to the path/)
  })

  it("answers HTTP 400 for a page size or time range beyond the dataset's limits", async () => {
    const tooMany = failed(await graphql(fixture, canaryHealth.replace("limit: 10000", "limit: 10001"), window(10)), 400)
    assert.strictEqual(tooMany.message, "limit must be positive number and not greater than 10000")
    const tooLong = failed(await graphql(fixture, canaryHealth, window(8 * 24 * 60)), 400)
    assert.match(tooLong.message, /^query time range is too large/)
  })

  it("answers 429 with retry-after once the GraphQL budget is spent, separately from REST", async () => {
    const limited = await setup({ rateLimits: { graphql: { requests: 2, windowSeconds: 300 } } })
    try {
      const query = `query($accountTag: string!) { viewer { accounts(filter: { accountTag: $accountTag }) { __typename } } }`
      const variables = { accountTag: limited.accountId }
      assert.strictEqual((await graphql(limited, query, variables)).status, 200)
      assert.strictEqual((await graphql(limited, query, variables)).status, 200)
      const spent = await graphql(limited, query, variables)
      assert.strictEqual(spent.status, 429)
      assert.strictEqual(spent.headers.get("retry-after"), "300")
      assert.strictEqual(failed(spent, 429).message, "rate limiter budget depleted, try again after 5 minutes")
      await limited.client.user.tokens.verify() // the REST budget is untouched
      const counted = limited.sim.counters().tokens[limited.apiToken]!
      assert.strictEqual(counted.graphql, 3)
      assert.strictEqual(counted.rateLimited, 1)
      assert.strictEqual(counted.restTotal, 1)
    } finally {
      await limited.sim.close()
    }
  })

  it("answers an injected 503 like the analytics service does", async () => {
    fixture.sim.injectFault({ kind: "status", status: 503, match: { path: "/graphql" } })
    const error = failed(await graphql(fixture, canaryHealth, window(10)), 503)
    assert.strictEqual(error.message, "unable to execute query, please try again later")
  })
})
