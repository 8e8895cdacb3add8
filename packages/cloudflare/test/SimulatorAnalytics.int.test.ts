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

  it("rejects an unknown field, argument or filter field, as GraphQL validation does, before anything runs", async () => {
    const field = failed(await graphql(fixture, canaryHealth.replace("subrequests", "subrequests bogus"), window(10)))
    assert.strictEqual(field.message, `Cannot query field "bogus" on type "AccountWorkersInvocationsAdaptiveSum".`)
    const argument = failed(await graphql(fixture, canaryHealth.replace("limit: 10000", "limit: 10000, groupBy: x"), window(10)))
    assert.match(argument.message, /^Unknown argument "groupBy" on field "account.workersInvocationsAdaptive"/)
    const filter = failed(
      await graphql(fixture, canaryHealth.replace("datetime_leq: $end", "datetime_leq: $end, colo: \"LHR\""), window(10))
    )
    assert.match(filter.message, /^Expected value of type "AccountWorkersInvocationsAdaptiveFilter_InputObject" not to include unknown field "colo"/)
    const scalar = failed(await graphql(fixture, canaryHealth.replace("cpuTimeP50 ", "cpuTimeP50 { value } "), window(10)))
    assert.match(scalar.message, /^Field "cpuTimeP50" must not have a selection since type "float64" has no subfields/)
  })

  it("checks variables as a GraphQL server does: declared types where they are used, values against their types", async () => {
    // Declared as an Int, used where a Time goes.
    const misplaced = failed(await graphql(fixture, canaryHealth.replace("$start: Time!", "$start: Int!"), { ...window(10), start: 5 }))
    assert.match(misplaced.message, /^Variable "\$start" of type "Int!" used in position expecting type "Time"/)
    // Declared right, sent wrong: a number for a Time, a time that does not parse, a string for uint64.
    const notTime = failed(await graphql(fixture, canaryHealth, { ...window(10), start: 5 }))
    assert.match(notTime.message, /^Variable "\$start" has invalid value: Time cannot represent 5/)
    const garbled = failed(await graphql(fixture, canaryHealth, { ...window(10), end: "yesterday-ish" }))
    assert.match(garbled.message, /^Variable "\$end" has invalid value: Time cannot represent "yesterday-ish"/)
    const limitQuery = canaryHealth.replace("$end: Time!)", "$end: Time!, $limit: uint64!)").replace("limit: 10000", "limit: $limit")
    const notCount = failed(await graphql(fixture, limitQuery, { ...window(10), limit: "10" }))
    assert.match(notCount.message, /^Variable "\$limit" has invalid value: uint64 cannot represent "10"/)
    // Declared but not sent.
    const { start: _, ...withoutStart } = window(10)
    assert.match(failed(await graphql(fixture, canaryHealth, withoutStart)).message, /^Variable "\$start" has invalid value: Expected a value of non-null type "Time!" to be provided/)
    // A nullable declaration where the argument is nullable is fine, and `string` takes any text.
    fixture.sim.advanceClock(11 * minute)
    const relaxed = canaryHealth.replace("$scriptName: string!", "$scriptName: string")
    assert.strictEqual(rowsOf(await graphql(fixture, relaxed, window(10))).length, 3)
  })

  it("rejects syntax errors and accounts the token cannot read", async () => {
    assert.match(failed(await graphql(fixture, "query { viewer {", {})).message, /Syntax Error/)
    const other = fixture.sim.createAccount()
    const denied = failed(await graphql(fixture, canaryHealth, { ...window(10), accountTag: other.id }))
    assert.match(denied.message, /^does not have access to the path/)
    assert.deepStrictEqual(denied.path, ["viewer", "accounts"])
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

/**
 * Every field and argument of `workersInvocationsAdaptive` that clients send, as listed in the
 * shared reference (graphql-workers-invocations.md): written out here, not read from the schema,
 * so that a field the simulator dropped fails.
 */
const reference = {
  sum: ["requests", "errors", "subrequests", "clientDisconnects", "cpuTimeUs", "wallTime", "duration", "responseBodySize"],
  quantiles: [
    ...["P25", "P50", "P75", "P90", "P95", "P99", "P999"].flatMap((p) => [`cpuTime${p}`, `wallTime${p}`]),
    ...["P50", "P75", "P90", "P95", "P99", "P999"].flatMap((p) => [`duration${p}`, `requestDuration${p}`, `responseBodySize${p}`])
  ],
  max: ["cpuTime", "wallTime", "duration", "requestDuration", "responseBodySize"],
  min: ["cpuTime", "wallTime", "duration", "requestDuration", "responseBodySize"],
  avg: ["sampleInterval"],
  dimensions: [
    "datetime",
    "datetimeMinute",
    "datetimeFiveMinutes",
    "datetimeFifteenMinutes",
    "datetimeHour",
    "date",
    "scriptName",
    "scriptVersion",
    "status",
    "usageModel",
    "coloCode",
    "isDispatcher"
  ]
}

describe("every field and argument clients send", () => {
  const selection = Object.entries(reference).map(([group, fields]) => `${group} { __typename ${fields.join(" ")} }`).join("\n")

  it("answers every sum, quantile, max, min, avg and dimension, with __typename", async () => {
    fixture.sim.advanceClock(11 * minute)
    const answer = await graphql(
      fixture,
      `query Everything($accountTag: string!, $version: string!, $start: Time!, $end: Time!) {
        __typename
        viewer { __typename accounts(filter: { accountTag: $accountTag }) { __typename
          rows: workersInvocationsAdaptive(limit: 5, filter: { scriptVersion: $version, datetime_geq: $start, datetime_lt: $end }) {
            __typename
            ${selection}
          }
        } }
      }`,
      { accountTag: fixture.accountId, version: stable, start: iso(t0), end: iso(t0 + minute) }
    )
    assert.strictEqual(answer.body.data.__typename, "Query")
    const rows = rowsOf(answer, "rows")
    assert.strictEqual(rows.length, 1) // the stable version's successes: it throws no exceptions
    const row = rows[0]
    assert.strictEqual(row.__typename, "AccountWorkersInvocationsAdaptive")
    for (const [group, fields] of Object.entries(reference)) {
      assert.strictEqual(row[group].__typename, `AccountWorkersInvocationsAdaptive${group[0]!.toUpperCase()}${group.slice(1)}`)
      for (const field of fields) assert.isNotNull(row[group][field], `${group}.${field}`)
    }
    assert.deepStrictEqual(
      { ...row.dimensions, __typename: undefined },
      {
        __typename: undefined,
        datetime: "2026-11-26T10:00:00Z",
        datetimeMinute: "2026-11-26T10:00:00Z",
        datetimeFiveMinutes: "2026-11-26T10:00:00Z",
        datetimeFifteenMinutes: "2026-11-26T10:00:00Z",
        datetimeHour: "2026-11-26T10:00:00Z",
        date: "2026-11-26",
        scriptName: "storefront",
        scriptVersion: stable,
        status: "success",
        usageModel: "standard",
        coloCode: "LHR",
        isDispatcher: false
      }
    )
    assert.strictEqual(row.sum.requests, 540)
    assert.strictEqual(row.sum.clientDisconnects, 0)
    // Quantiles rise with the percentile, and lie between min and max.
    for (const measure of ["cpuTime", "wallTime"]) {
      const ladder = ["P25", "P50", "P75", "P90", "P95", "P99", "P999"].map((p) => row.quantiles[`${measure}${p}`])
      assert.deepStrictEqual(ladder, [...ladder].sort((a, b) => a - b), measure)
      assert.isBelow(row.min[measure], ladder[0])
      assert.isAbove(row.max[measure], ladder.at(-1))
    }
    assert.strictEqual(row.quantiles.cpuTimeP50, 850)
    assert.strictEqual(row.quantiles.wallTimeP99, 95000)
    // Sums are the requests times each measure's mean: above the median for a long-tailed measure.
    assert.isAbove(row.sum.cpuTimeUs, 540 * 850)
    // Billed duration in GB-s at 128 MB: between every request at the median and at the 99th percentile.
    assert.isAbove(row.sum.duration, 540 * 0.125 * 0.012)
    assert.isBelow(row.sum.duration, 540 * 0.125 * 0.095)
  })

  it("orders by any dimension or figure, ascending or descending", async () => {
    fixture.sim.advanceClock(11 * minute)
    const ordered = async (orderBy: string) =>
      rowsOf(
        await graphql(
          fixture,
          `query($accountTag: string!, $start: Time!, $end: Time!) { viewer { accounts(filter: { accountTag: $accountTag }) {
            workersInvocationsAdaptive(limit: 10, filter: { datetime_geq: $start, datetime_leq: $end }, orderBy: [${orderBy}]) {
              dimensions { scriptVersion status } sum { requests }
            }
          } } }`,
          window(10)
        )
      ).map((row) => row.sum.requests)
    assert.deepStrictEqual(await ordered("sum_requests_DESC"), [5400, 570, 30])
    assert.deepStrictEqual(await ordered("sum_requests_ASC"), [30, 570, 5400])
    assert.deepStrictEqual(await ordered("status_DESC, sum_requests_ASC"), [570, 5400, 30])
    assert.strictEqual((await ordered("quantiles_cpuTimeP50_DESC")).length, 3)
  })

  it("filters with AND and OR, and without a lower time bound reads up to the dataset's longest range", async () => {
    fixture.sim.advanceClock(11 * minute)
    const requests = async (filter: string) => {
      const rows = rowsOf(
        await graphql(
          fixture,
          `query($accountTag: string!) { viewer { accounts(filter: { accountTag: $accountTag }) {
            workersInvocationsAdaptive(limit: 100, filter: ${filter}) { sum { requests errors } }
          } } }`,
          { accountTag: fixture.accountId }
        )
      )
      return rows.reduce((sum, row) => sum + row.sum.requests, 0)
    }
    const end = `datetime_leq: "${iso(t0 + 10 * minute)}"`
    assert.strictEqual(await requests(`{ ${end} }`), 6000)
    assert.strictEqual(await requests(`{ ${end}, OR: [{ scriptVersion: "${canary}" }, { status: "scriptThrewException" }] }`), 600)
    assert.strictEqual(await requests(`{ ${end}, AND: [{ scriptVersion: "${canary}" }, { status: "success" }] }`), 570)
    assert.strictEqual(await requests(`{ ${end}, scriptVersion_neq: "${canary}" }`), 5400)
    // A time window inside an OR: the first two minutes, or the canary's errors anytime.
    assert.strictEqual(
      await requests(`{ ${end}, OR: [{ datetime_lt: "${iso(t0 + 2 * minute)}" }, { status: "scriptThrewException" }] }`),
      1200 + 24
    )
  })

  it("answers __type introspection with the fields the reference lists", async () => {
    const answer = await graphql(fixture, `{
      quantiles: __type(name: "AccountWorkersInvocationsAdaptiveQuantiles") { name fields { name } }
      filter: __type(name: "AccountWorkersInvocationsAdaptiveFilter_InputObject") { inputFields { name type { name } } }
    }`)
    assert.isNull(answer.body.errors)
    const quantiles: Array<string> = answer.body.data.quantiles.fields.map((field: { name: string }) => field.name)
    assert.includeMembers(quantiles, reference.quantiles)
    const filterFields = answer.body.data.filter.inputFields.map((field: { name: string; type: { name: string | null } }) => [field.name, field.type.name])
    assert.includeDeepMembers(filterFields, [
      ["scriptName", "string"],
      ["scriptVersion", "string"],
      ["status", "string"],
      ["datetime_geq", "Time"],
      ["datetime_gt", "Time"],
      ["datetime_leq", "Time"],
      ["datetime_lt", "Time"],
      ["date_geq", "Date"],
      ["date_leq", "Date"],
      ["AND", null],
      ["OR", null]
    ])
  })

  it("answers a query in the form of the tutorial's (\"Querying Workers metrics\"), string variables for times", async () => {
    fixture.sim.advanceClock(11 * minute)
    const answer = await graphql(
      fixture,
      `query GetWorkersAnalytics($accountTag: string, $datetimeStart: string, $datetimeEnd: string, $scriptName: string) {
        viewer {
          accounts(filter: {accountTag: $accountTag}) {
            workersInvocationsAdaptive(limit: 100, filter: {
              scriptName: $scriptName,
              datetime_geq: $datetimeStart,
              datetime_leq: $datetimeEnd
            }) {
              sum { subrequests requests errors }
              quantiles { cpuTimeP50 cpuTimeP99 }
              dimensions { datetime scriptName status }
            }
          }
        }
      }`,
      { accountTag: fixture.accountId, datetimeStart: iso(t0), datetimeEnd: iso(t0 + 10 * minute), scriptName: "storefront" }
    )
    assert.isNull(answer.body.errors, JSON.stringify(answer.body.errors))
    const rows: Array<any> = answer.body.data.viewer.accounts[0].workersInvocationsAdaptive
    assert.strictEqual(rows.reduce((sum, row) => sum + row.sum.requests, 0), 6000)
    assert.deepStrictEqual(rows[0].dimensions, { datetime: "2026-11-26T10:00:00Z", scriptName: "storefront", status: "scriptThrewException" })
    // A string that is no time is refused when the query runs, naming the filter field.
    const wrong = await graphql(fixture, `query($accountTag: string, $start: string) { viewer { accounts(filter: { accountTag: $accountTag }) {
      workersInvocationsAdaptive(limit: 1, filter: { datetime_geq: $start }) { sum { requests } }
    } } }`, { accountTag: fixture.accountId, start: "soon" })
    assert.match(wrong.body.errors![0]!.message, /^error parsing args: datetime_geq must be a time/)
  })
})
