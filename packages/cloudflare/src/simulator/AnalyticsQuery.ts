/**
 * `POST /client/v4/graphql`: the part of Cloudflare's GraphQL Analytics API that Workers clients
 * use, `viewer { accounts(filter: { accountTag }) { workersInvocationsAdaptive(...) { ... }
 * settings { ... } } }`, as a real GraphQL schema executed by graphql-js: every field and argument
 * of `workersInvocationsAdaptive` that clients send (sum, max, min, quantiles, avg, every
 * dimension, `filter` with `AND`/`OR`, `orderBy`, `limit`; see the shared reference
 * `graphql-workers-invocations.md`), aliases, fragments, directives, `__typename` and
 * introspection (`__type`, `__schema`). Queries are validated as a GraphQL server does: unknown
 * fields and arguments, and variables whose declared type does not fit where they are used or
 * whose value does not fit their type, are errors before anything runs. Cloudflare's own scalars
 * (`string`, `Time`, `Date`, `uint64`, `float64`) are what clients declare their variables as.
 *
 * Failures use Cloudflare's shape: HTTP 200 with `{ data: null, errors: [{ message, path,
 * extensions: { timestamp } }] }`, or HTTP 400 for the dataset's documented limits (page size,
 * time range, age). Success has `errors: null`. No rule stricter than Cloudflare's docs: a
 * query without a lower time bound reads the dataset's longest range (`maxDuration`) up to now.
 */
import {
  type ConstValueNode,
  type DocumentNode,
  type ExecutionResult,
  executeSync,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLType,
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  type GraphQLFieldConfigMap,
  GraphQLFloat,
  type GraphQLInputFieldConfigMap,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  GraphQLScalarType,
  GraphQLSchema,
  isNonNullType,
  isTypeSubTypeOf,
  Kind,
  parse,
  type SelectionSetNode,
  specifiedRules,
  typeFromAST,
  validate,
  type ValidationRule,
  VariablesInAllowedPositionRule
} from "graphql"
import * as InvocationsDataset from "./InvocationsDataset.ts"
import type { Account } from "./Platform.ts"

/** The `settings` node values for `workersInvocationsAdaptive`, in seconds. */
export interface DatasetLimits {
  readonly maxPageSize: number
  readonly maxDurationSeconds: number
  readonly notOlderThanSeconds: number
}

/** Cloudflare publishes none of these for this node (reference §4); values are ours. */
export const defaultDatasetLimits: DatasetLimits = {
  maxPageSize: 10_000,
  maxDurationSeconds: 7 * 24 * 3600,
  notOlderThanSeconds: 92 * 24 * 3600
}

export interface Context {
  readonly now: number
  readonly delayMs: number
  readonly limits: DatasetLimits
  /** The account, if it exists and the caller's token may read it. */
  readonly account: (accountTag: string) => Account | undefined
}

export interface Answer {
  readonly status: number
  readonly body: unknown
}

/** A refusal with the HTTP status Cloudflare gives it (400 for the dataset's limits). */
class QueryFailure extends Error {
  readonly status: number
  constructor(message: string, status = 200) {
    super(message)
    this.status = status
  }
}

const parsingArgs = (detail: string) => new QueryFailure(`error parsing args: ${detail}`)

// ---------------------------------------------------------------------------------------------
// Cloudflare's scalars, as clients declare their variables: a value of the wrong kind is an error.

const literalOf = (node: ConstValueNode): unknown =>
  node.kind === Kind.STRING || node.kind === Kind.ENUM
    ? node.value
    : node.kind === Kind.INT
    ? Number.parseInt(node.value, 10)
    : node.kind === Kind.FLOAT
    ? Number.parseFloat(node.value)
    : node.kind === Kind.BOOLEAN
    ? node.value
    : node.kind === Kind.NULL
    ? null
    : undefined

const scalar = (name: string, description: string, accepts: (value: unknown) => boolean, expected: string) => {
  const coerce = (value: unknown) => {
    if (!accepts(value)) throw new GraphQLError(`${name} cannot represent ${JSON.stringify(value) ?? String(value)}: ${expected}`)
    return value
  }
  return new GraphQLScalarType({
    name,
    description,
    coerceOutputValue: (value) => value,
    coerceInputValue: coerce,
    coerceInputLiteral: (node) => coerce(literalOf(node))
  })
}

const isText = (value: unknown): value is string => typeof value === "string"
const CfString = scalar("string", "Text.", isText, "expected a string")
const Time = scalar(
  "Time",
  "An RFC 3339 time, such as 2026-11-26T10:00:00Z.",
  (value) => isText(value) && !Number.isNaN(Date.parse(value)),
  "expected an RFC 3339 time such as \"2026-11-26T10:00:00Z\""
)
const CfDate = scalar(
  "Date",
  "A day, such as 2026-11-26.",
  (value) => isText(value) && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)),
  "expected a day such as \"2026-11-26\""
)
const Uint64 = scalar(
  "uint64",
  "A non-negative whole number.",
  (value) => typeof value === "number" && Number.isSafeInteger(value) && value >= 0,
  "expected a non-negative whole number"
)
const Float64 = scalar("float64", "A number.", (value) => typeof value === "number" && Number.isFinite(value), "expected a number")

// ---------------------------------------------------------------------------------------------
// The schema.

const dataset = "AccountWorkersInvocationsAdaptive"

const scalarFields = (names: ReadonlyArray<string>, type: (name: string) => GraphQLOutputType): GraphQLFieldConfigMap<unknown, unknown> =>
  Object.fromEntries(names.map((name) => [name, { type: type(name) }]))

const dimensionType = (name: string): GraphQLOutputType =>
  name === "date"
    ? CfDate
    : name.startsWith("datetime")
    ? Time
    : name === "isDispatcher"
    ? GraphQLBoolean
    : CfString

const Dimensions = new GraphQLObjectType({
  name: `${dataset}Dimensions`,
  fields: scalarFields(InvocationsDataset.dimensions, dimensionType)
})
const Sum = new GraphQLObjectType({
  name: `${dataset}Sum`,
  fields: scalarFields(InvocationsDataset.sumFields, (name) => name === "duration" ? Float64 : Uint64)
})
const Quantiles = new GraphQLObjectType({
  name: `${dataset}Quantiles`,
  fields: scalarFields(InvocationsDataset.quantileFields, () => Float64)
})
const Max = new GraphQLObjectType({
  name: `${dataset}Max`,
  fields: scalarFields(InvocationsDataset.extremeFields, (name) => name === "duration" ? Float64 : Uint64)
})
const Min = new GraphQLObjectType({
  name: `${dataset}Min`,
  fields: scalarFields(InvocationsDataset.extremeFields, (name) => name === "duration" ? Float64 : Uint64)
})
const Avg = new GraphQLObjectType({ name: `${dataset}Avg`, fields: { sampleInterval: { type: Float64 } } })

const Row = new GraphQLObjectType({
  name: dataset,
  fields: {
    dimensions: { type: Dimensions },
    sum: { type: Sum },
    quantiles: { type: Quantiles },
    max: { type: Max },
    min: { type: Min },
    avg: { type: Avg }
  }
})

/** The fields a string dimension can be filtered on: equal, not equal, in a list, not in it. */
const stringFilters = (name: string): GraphQLInputFieldConfigMap => ({
  [name]: { type: CfString },
  [`${name}_neq`]: { type: CfString },
  [`${name}_in`]: { type: new GraphQLList(new GraphQLNonNull(CfString)) },
  [`${name}_notin`]: { type: new GraphQLList(new GraphQLNonNull(CfString)) }
})

const filterStrings = ["scriptName", "scriptVersion", "status", "usageModel", "coloCode"] as const

const Filter: GraphQLInputObjectType = new GraphQLInputObjectType({
  name: `${dataset}Filter_InputObject`,
  fields: () => ({
    ...Object.assign({}, ...filterStrings.map(stringFilters)) as GraphQLInputFieldConfigMap,
    datetime: { type: Time },
    datetime_geq: { type: Time },
    datetime_gt: { type: Time },
    datetime_leq: { type: Time },
    datetime_lt: { type: Time },
    date: { type: CfDate },
    date_geq: { type: CfDate },
    date_gt: { type: CfDate },
    date_leq: { type: CfDate },
    date_lt: { type: CfDate },
    isDispatcher: { type: GraphQLBoolean },
    AND: { type: new GraphQLList(new GraphQLNonNull(Filter)) },
    OR: { type: new GraphQLList(new GraphQLNonNull(Filter)) }
  })
})

const OrderBy = new GraphQLEnumType({
  name: `${dataset}OrderBy`,
  values: Object.fromEntries(
    InvocationsDataset.orderKeys.flatMap((key) => [[`${key}_ASC`, { value: `${key}_ASC` }], [`${key}_DESC`, { value: `${key}_DESC` }]])
  )
})

const SettingsNode = new GraphQLObjectType({
  name: "SettingsNode",
  fields: {
    enabled: { type: GraphQLBoolean },
    maxDuration: { type: GraphQLInt },
    maxNumberOfFields: { type: GraphQLInt },
    maxPageSize: { type: GraphQLInt },
    notOlderThan: { type: GraphQLInt }
  }
})
const AccountSettings = new GraphQLObjectType({
  name: "AccountSettings",
  fields: { workersInvocationsAdaptive: { type: SettingsNode } }
})

const AccountType = new GraphQLObjectType<Account, Context>({
  name: "account",
  fields: {
    workersInvocationsAdaptive: {
      type: new GraphQLList(new GraphQLNonNull(Row)),
      args: {
        limit: { type: Uint64 },
        filter: { type: Filter },
        orderBy: { type: new GraphQLList(new GraphQLNonNull(OrderBy)) }
      },
      resolve: (account, args, context, info) => InvocationsDataset.rows(datasetQuery(account, args, context, info))
    },
    settings: {
      type: AccountSettings,
      resolve: (_account, _args, context) => ({
        workersInvocationsAdaptive: {
          enabled: true,
          maxDuration: context.limits.maxDurationSeconds,
          maxNumberOfFields: 30,
          maxPageSize: context.limits.maxPageSize,
          notOlderThan: context.limits.notOlderThanSeconds
        }
      })
    }
  }
})

const AccountFilter = new GraphQLInputObjectType({
  name: "AccountFilter_InputObject",
  fields: { accountTag: { type: CfString } }
})

const Viewer = new GraphQLObjectType<unknown, Context>({
  name: "viewer",
  fields: {
    accounts: {
      type: new GraphQLList(new GraphQLNonNull(AccountType)),
      args: { filter: { type: new GraphQLNonNull(AccountFilter) } },
      resolve: (_viewer, args, context) => {
        const accountTag = (args.filter as { readonly accountTag?: string }).accountTag
        if (accountTag === undefined) throw parsingArgs("accounts needs filter: { accountTag }")
        const account = context.account(accountTag)
        if (account === undefined) throw new QueryFailure(`does not have access to the path: account ${accountTag}`)
        return [account]
      }
    }
  }
})

/**
 * GraphQL's rule that a variable's declared type fits every place it is used, with one leniency
 * Cloudflare has: a `string` variable may stand where a `Time` or a `Date` goes (Cloudflare's own
 * tutorial, "Querying Workers metrics", declares `$datetimeStart: string` for `datetime_geq`).
 * The value must still be a time when the query runs.
 */
const fitsWhereUsed = (variable: GraphQLType, location: GraphQLType): boolean => {
  if (isTypeSubTypeOf(schema, variable, location)) return true
  const named = (type: GraphQLType): GraphQLType => isNonNullType(type) ? type.ofType : type
  if (isNonNullType(location) && !isNonNullType(variable)) return false
  return named(variable) === CfString && (named(location) === Time || named(location) === CfDate)
}

const VariablesFitWhereUsed: ValidationRule = (context) => ({
  OperationDefinition: {
    leave(operation) {
      const declared = new Map((operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition]))
      for (const { node, type, defaultValue } of context.getRecursiveVariableUsages(operation)) {
        const definition = declared.get(node.name.value)
        if (definition === undefined || type === undefined || type === null) continue
        const variable = typeFromAST(context.getSchema(), definition.type)
        if (variable === undefined || variable === null) continue
        // A nullable variable fills a non-null place when it or the place has a default (the spec's rule).
        const defaulted = (definition.defaultValue !== undefined && definition.defaultValue.kind !== Kind.NULL) ||
          defaultValue !== undefined
        const location = defaulted && isNonNullType(type) ? type.ofType : type
        if (!fitsWhereUsed(variable, location)) {
          context.reportError(
            new GraphQLError(`Variable "$${node.name.value}" of type "${variable}" used in position expecting type "${type}".`, {
              nodes: [definition, node]
            })
          )
        }
      }
    }
  }
})

const rules = [...specifiedRules.filter((rule) => rule !== VariablesInAllowedPositionRule), VariablesFitWhereUsed]

export const schema: GraphQLSchema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { viewer: { type: Viewer, resolve: () => ({}) } } })
})

// ---------------------------------------------------------------------------------------------
// Answering.

/** Answer a GraphQL request body. */
export const answer = (body: unknown, context: Context): Answer => {
  const timestamp = new Date(context.now).toISOString()
  const failed = (status: number, errors: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<string | number> | undefined }>) => ({
    status,
    body: {
      data: null,
      errors: errors.map((error) => ({
        message: error.message,
        path: error.path === undefined ? null : error.path.map(String),
        extensions: { timestamp }
      }))
    }
  })
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return failed(400, [{ message: "the request body must be a JSON object" }])
  }
  const { query, variables, operationName } = body as Record<string, unknown>
  if (typeof query !== "string" || query.trim() === "") return failed(400, [{ message: "query is required" }])
  if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) {
    return failed(200, [{ message: "variables must be an object" }])
  }
  const checked = checkedDocument(query)
  if (checked._tag === "Invalid") return failed(200, checked.errors)
  const document = checked.document
  const result = executeSync({
    schema,
    document,
    contextValue: context,
    variableValues: (variables ?? {}) as Record<string, unknown>,
    operationName: typeof operationName === "string" ? operationName : undefined
  }) as ExecutionResult
  if (result.errors !== undefined && result.errors.length > 0) {
    const status = Math.max(
      ...result.errors.map((error) => error.originalError instanceof QueryFailure ? error.originalError.status : 200)
    )
    return failed(status, result.errors)
  }
  return { status: 200, body: { data: result.data, errors: null } }
}

type Args = Record<string, unknown>

type Checked =
  | { readonly _tag: "Valid"; readonly document: DocumentNode }
  | { readonly _tag: "Invalid"; readonly errors: ReadonlyArray<{ readonly message: string }> }

/**
 * Parsed and validated queries by their text: a client sends the same few queries again and
 * again (a health check every interval), and parsing and validating cost more than answering.
 */
const checkedQueries = new Map<string, Checked>()
const maxCheckedQueries = 100

const checkedDocument = (query: string): Checked => {
  const known = checkedQueries.get(query)
  if (known !== undefined) return known
  let checked: Checked
  try {
    const document = parse(query)
    const invalid = validate(schema, document, rules)
    checked = invalid.length > 0 ? { _tag: "Invalid", errors: invalid } : { _tag: "Valid", document }
  } catch (error) {
    checked = { _tag: "Invalid", errors: [{ message: error instanceof GraphQLError ? error.message : String(error) }] }
  }
  if (checkedQueries.size >= maxCheckedQueries) checkedQueries.delete(checkedQueries.keys().next().value!)
  checkedQueries.set(query, checked)
  return checked
}

const datasetQuery = (account: Account, args: Args, context: Context, info: GraphQLResolveInfo): InvocationsDataset.Query => {
  const maxPageSize = context.limits.maxPageSize
  const limit = (args.limit ?? maxPageSize) as number
  if (limit <= 0 || limit > maxPageSize) {
    throw new QueryFailure(`limit must be positive number and not greater than ${maxPageSize}`, 400)
  }
  const filter = readFilter((args.filter ?? {}) as Args, context)
  const groupBy = requestedDimensions(info)
  const figures = requestedFigures(info)
  const orderBy = ((args.orderBy ?? []) as ReadonlyArray<string>).map((entry): InvocationsDataset.Ordering => {
    const separator = entry.lastIndexOf("_")
    return { key: entry.slice(0, separator), direction: entry.slice(separator + 1) as "ASC" | "DESC" }
  })
  return {
    scripts: account.scripts.values(),
    filter,
    groupBy,
    orderBy,
    limit,
    visibleUntil: context.now - context.delayMs,
    figures
  }
}

/**
 * The figures the query selects, as "group.field" (`quantiles.cpuTimeP50`): the dataset computes
 * only these. One set per query text and path, so the dataset's per-version cache is reused.
 */
const figureSets = new Map<string, ReadonlySet<string>>()
const requestedFigures = (info: GraphQLResolveInfo): ReadonlySet<string> => {
  const wanted: Array<string> = []
  for (const row of info.fieldNodes) {
    for (const group of fieldsOf(row.selectionSet, info)) {
      for (const field of fieldsOf(group.selectionSet, info)) wanted.push(`${group.name.value}.${field.name.value}`)
    }
  }
  const key = [...new Set(wanted)].sort().join(" ")
  const known = figureSets.get(key)
  if (known !== undefined) return known
  const set: ReadonlySet<string> = new Set(wanted)
  if (figureSets.size >= 100) figureSets.delete(figureSets.keys().next().value!)
  figureSets.set(key, set)
  return set
}

/** The dimensions the query selects under `dimensions`, fragments and directives applied. */
const requestedDimensions = (info: GraphQLResolveInfo): Array<InvocationsDataset.Dimension> => {
  const requested = new Set<InvocationsDataset.Dimension>()
  const known: ReadonlyArray<string> = InvocationsDataset.dimensions
  for (const row of info.fieldNodes) {
    for (const field of fieldsOf(row.selectionSet, info)) {
      if (field.name.value !== "dimensions") continue
      for (const dimension of fieldsOf(field.selectionSet, info)) {
        if (known.includes(dimension.name.value)) requested.add(dimension.name.value as InvocationsDataset.Dimension)
      }
    }
  }
  return [...requested]
}

const fieldsOf = (selectionSet: SelectionSetNode | undefined, info: GraphQLResolveInfo): Array<FieldNode> => {
  const fields: Array<FieldNode> = []
  const included = (node: FieldNode | { readonly directives?: FieldNode["directives"] }) =>
    (node.directives ?? []).every((directive) => {
      const condition = directive.arguments?.find((argument) => argument.name.value === "if")?.value
      const value = condition === undefined
        ? undefined
        : condition.kind === Kind.VARIABLE
        ? info.variableValues.coerced[condition.name.value]
        : condition.kind === Kind.BOOLEAN
        ? condition.value
        : undefined
      return directive.name.value === "skip" ? value !== true : directive.name.value === "include" ? value === true : true
    })
  const visit = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (!included(selection)) continue
      if (selection.kind === Kind.FIELD) fields.push(selection)
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet)
      else {
        const fragment: FragmentDefinitionNode | undefined = info.fragments[selection.name.value]
        visit(fragment?.selectionSet)
      }
    }
  }
  visit(selectionSet)
  return fields
}

// ---------------------------------------------------------------------------------------------
// The filter: the window from the time bounds every row must meet (the top level and `AND`),
// the rest as a test of each cell (`OR` branches may bound time too).

const day = 86_400_000

interface Bounds {
  lower: Array<number>
  upper: Array<number>
}

/** Time bounds that every row must meet, as `[from, to)` pieces. */
const collectBounds = (filter: Args, bounds: Bounds) => {
  // A `string` variable may carry a time (see VariablesFitWhereUsed): it must parse as one.
  const parsed = (name: string, text: string) => {
    const time = Date.parse(text)
    if (Number.isNaN(time)) throw parsingArgs(`${name} must be a time such as "2026-11-26T10:00:00Z", got ${JSON.stringify(filter[name])}`)
    return time
  }
  const time = (name: string) => parsed(name, filter[name] as string)
  const date = (name: string) => parsed(name, `${filter[name] as string}T00:00:00Z`)
  if (filter.datetime !== undefined) {
    bounds.lower.push(time("datetime"))
    bounds.upper.push(time("datetime") + 60_000)
  }
  if (filter.datetime_geq !== undefined) bounds.lower.push(time("datetime_geq"))
  // Time is continuous here, so inclusive and exclusive bounds select the same window.
  if (filter.datetime_gt !== undefined) bounds.lower.push(time("datetime_gt"))
  if (filter.datetime_leq !== undefined) bounds.upper.push(time("datetime_leq"))
  if (filter.datetime_lt !== undefined) bounds.upper.push(time("datetime_lt"))
  if (filter.date !== undefined) {
    bounds.lower.push(date("date"))
    bounds.upper.push(date("date") + day)
  }
  if (filter.date_geq !== undefined) bounds.lower.push(date("date_geq"))
  if (filter.date_gt !== undefined) bounds.lower.push(date("date_gt") + day)
  if (filter.date_leq !== undefined) bounds.upper.push(date("date_leq") + day)
  if (filter.date_lt !== undefined) bounds.upper.push(date("date_lt"))
  for (const inner of (filter.AND ?? []) as ReadonlyArray<Args>) collectBounds(inner, bounds)
}

const timeFields = new Set([
  "datetime",
  "datetime_geq",
  "datetime_gt",
  "datetime_leq",
  "datetime_lt",
  "date",
  "date_geq",
  "date_gt",
  "date_leq",
  "date_lt"
])

/** Whether a filter (below the window) says anything about time. */
const saysTime = (filter: Args, inWindow: boolean): boolean =>
  Object.keys(filter).some((name) => !inWindow && timeFields.has(name)) ||
  ((filter.AND ?? []) as ReadonlyArray<Args>).some((inner) => saysTime(inner, inWindow)) ||
  ((filter.OR ?? []) as ReadonlyArray<Args>).some((inner) => saysTime(inner, false))

/**
 * Whether a cell meets a filter. Time bounds already applied as the window (`inWindow`: the top
 * level and its `AND`s) are not tested again; inside an `OR` they are, at the cell's minute.
 */
const matches = (filter: Args, cell: InvocationsDataset.Cell, inWindow: boolean): boolean => {
  for (const name of filterStrings) {
    const value = cell[name]
    if (filter[name] !== undefined && value !== filter[name]) return false
    if (filter[`${name}_neq`] !== undefined && value === filter[`${name}_neq`]) return false
    if (filter[`${name}_in`] !== undefined && !(filter[`${name}_in`] as ReadonlyArray<string>).includes(value)) return false
    if (filter[`${name}_notin`] !== undefined && (filter[`${name}_notin`] as ReadonlyArray<string>).includes(value)) return false
  }
  if (filter.isDispatcher !== undefined && filter.isDispatcher !== cell.isDispatcher) return false
  if (!inWindow) {
    const bounds: Bounds = { lower: [], upper: [] }
    collectBounds({ ...filter, AND: [] }, bounds)
    if (bounds.lower.some((lower) => cell.datetime < lower) || bounds.upper.some((upper) => cell.datetime >= upper)) {
      return false
    }
  }
  const ands = (filter.AND ?? []) as ReadonlyArray<Args>
  if (!ands.every((inner) => matches(inner, cell, inWindow))) return false
  const ors = filter.OR as ReadonlyArray<Args> | undefined
  return ors === undefined || ors.length === 0 || ors.some((inner) => matches(inner, cell, false))
}

const readFilter = (filter: Args, context: Context): InvocationsDataset.Filter => {
  const bounds: Bounds = { lower: [], upper: [] }
  collectBounds(filter, bounds)
  const end = bounds.upper.length === 0 ? context.now : Math.min(...bounds.upper)
  const maxDurationMs = context.limits.maxDurationSeconds * 1000
  const oldest = context.now - context.limits.notOlderThanSeconds * 1000
  // Without a lower bound the dataset's longest range up to `end` (Cloudflare documents no
  // refusal for it); with one, its documented limits.
  const start = bounds.lower.length === 0 ? Math.max(end - maxDurationMs, oldest) : Math.max(...bounds.lower)
  const durationSeconds = Math.ceil((end - start) / 1000)
  if (durationSeconds > context.limits.maxDurationSeconds) {
    throw new QueryFailure(
      `query time range is too large. Time range can't be wider than ${context.limits.maxDurationSeconds}s, but it's ${durationSeconds}s`,
      400
    )
  }
  if (start < oldest) throw new QueryFailure(`cannot request data older than ${context.limits.notOlderThanSeconds}s`, 400)
  const trivial = Object.keys(filter).every((name) => timeFields.has(name)) && filter.AND === undefined && filter.OR === undefined
  return {
    start,
    end,
    ...(trivial ? {} : { matches: (cell: InvocationsDataset.Cell) => matches(filter, cell, true) }),
    testsTime: saysTime(filter, true)
  }
}

