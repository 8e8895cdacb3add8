/**
 * `POST /client/v4/graphql`: the part of Cloudflare's GraphQL Analytics API that CanaryRoll uses,
 * `viewer { accounts(filter: { accountTag }) { workersInvocationsAdaptive(...) { ... } settings
 * { ... } } }`. The query is parsed with graphql-js, variables and fragments are resolved, and the
 * whole selection is checked against a small schema before anything runs, so an unknown field or
 * argument fails even when no rows would come back. Failures use Cloudflare's shape: HTTP 200
 * with `{ data: null, errors: [{ message, path, extensions: { timestamp } }] }`, or HTTP 400 for
 * the documented dataset limits (page size, time range, age). Success has `errors: null`.
 */
import {
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type TypeNode,
  type ValueNode
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

type Path = ReadonlyArray<string>

class QueryFailure extends Error {
  readonly path: Path | null
  readonly status: number
  constructor(message: string, path: Path | null, status = 200) {
    super(message)
    this.path = path
    this.status = status
  }
}

const parsingArgs = (detail: string, path: Path) => new QueryFailure(`error parsing args: ${detail}`, path)

// The schema: per object type, its fields with their arguments and type (null = scalar).
interface FieldSpec {
  readonly args: ReadonlyArray<string>
  readonly type: string | null
}
const scalar: FieldSpec = { args: [], type: null }
const scalars = (names: ReadonlyArray<string>) => Object.fromEntries(names.map((name) => [name, scalar]))
const dataset = "AccountWorkersInvocationsAdaptive"

const schema: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>> = {
  Query: { viewer: { args: [], type: "viewer" } },
  viewer: { accounts: { args: ["filter"], type: "account" } },
  account: {
    workersInvocationsAdaptive: { args: ["limit", "filter", "orderBy"], type: dataset },
    settings: { args: [], type: "AccountSettings" }
  },
  [dataset]: {
    dimensions: { args: [], type: `${dataset}Dimensions` },
    sum: { args: [], type: `${dataset}Sum` },
    quantiles: { args: [], type: `${dataset}Quantiles` },
    avg: { args: [], type: `${dataset}Avg` }
  },
  [`${dataset}Dimensions`]: scalars(InvocationsDataset.dimensions),
  [`${dataset}Sum`]: scalars(["requests", "errors", "subrequests"]),
  [`${dataset}Quantiles`]: scalars(["cpuTimeP50", "cpuTimeP99", "wallTimeP50", "wallTimeP99"]),
  [`${dataset}Avg`]: scalars(["sampleInterval"]),
  AccountSettings: { workersInvocationsAdaptive: { args: [], type: "SettingsNode" } },
  SettingsNode: scalars(["enabled", "maxDuration", "maxNumberOfFields", "maxPageSize", "notOlderThan"])
}

const filterFields = [
  "scriptName",
  "scriptName_in",
  "scriptVersion",
  "scriptVersion_in",
  "status",
  "status_in",
  "datetime_geq",
  "datetime_leq",
  "datetime_gt",
  "datetime_lt"
] as const

interface Operation {
  readonly variables: Readonly<Record<string, unknown>>
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>
}

/** Answer a GraphQL request body. */
export const answer = (body: unknown, context: Context): Answer => {
  const timestamp = new Date(context.now).toISOString()
  try {
    return { status: 200, body: { data: execute(body, context), errors: null } }
  } catch (failure) {
    if (!(failure instanceof QueryFailure)) throw failure
    return {
      status: failure.status,
      body: { data: null, errors: [{ message: failure.message, path: failure.path, extensions: { timestamp } }] }
    }
  }
}

const execute = (body: unknown, context: Context) => {
  if (typeof body !== "object" || body === null) throw new QueryFailure("the request body must be a JSON object", null, 400)
  const { query, variables, operationName } = body as Record<string, unknown>
  if (typeof query !== "string" || query.trim() === "") throw new QueryFailure("query is required", null, 400)
  let document: DocumentNode
  try {
    document = parse(query)
  } catch (error) {
    throw new QueryFailure(error instanceof GraphQLError ? error.message : String(error), null)
  }
  const operation = pickOperation(document, typeof operationName === "string" ? operationName : undefined)
  const fragments = new Map(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((definition) => [definition.name.value, definition])
  )
  const resolved: Operation = {
    variables: resolveVariables(operation, variables ?? {}),
    fragments
  }
  validate("Query", operation.selectionSet, [], resolved)
  const data: Record<string, unknown> = {}
  for (const field of collectFields(operation.selectionSet, resolved)) {
    const key = responseKey(field)
    data[key] = field.name.value === "__typename"
      ? "Query"
      : resolveViewer(field.selectionSet!, [key], resolved, context)
  }
  return data
}

const pickOperation = (document: DocumentNode, name: string | undefined): OperationDefinitionNode => {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION
  )
  const operation = name === undefined
    ? operations.length === 1 ? operations[0] : undefined
    : operations.find((candidate) => candidate.name?.value === name)
  if (operation === undefined) {
    throw new QueryFailure(
      name === undefined ? "must provide operation name if query contains multiple operations" : `unknown operation ${name}`,
      null
    )
  }
  if (operation.operation !== "query") throw new QueryFailure(`${operation.operation} operations are not supported`, null)
  return operation
}

const typeText = (type: TypeNode): string =>
  type.kind === Kind.NON_NULL_TYPE
    ? `${typeText(type.type)}!`
    : type.kind === Kind.LIST_TYPE
    ? `[${typeText(type.type)}]`
    : type.name.value

const resolveVariables = (operation: OperationDefinitionNode, provided: unknown): Record<string, unknown> => {
  if (typeof provided !== "object" || provided === null || Array.isArray(provided)) {
    throw new QueryFailure("variables must be an object", null)
  }
  const given = provided as Record<string, unknown>
  const variables: Record<string, unknown> = {}
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value
    const value = given[name] !== undefined
      ? given[name]
      : definition.defaultValue === undefined
      ? undefined
      : valueOf(definition.defaultValue, {})
    if ((value === undefined || value === null) && definition.type.kind === Kind.NON_NULL_TYPE) {
      throw new QueryFailure(`variable "$${name}" of required type "${typeText(definition.type)}" was not provided`, null)
    }
    variables[name] = value
  }
  return variables
}

const valueOf = (node: ValueNode, variables: Readonly<Record<string, unknown>>): unknown => {
  switch (node.kind) {
    case Kind.VARIABLE: {
      const name = node.name.value
      if (!(name in variables)) throw new QueryFailure(`variable "$${name}" is not defined`, null)
      return variables[name]
    }
    case Kind.INT:
      return Number.parseInt(node.value, 10)
    case Kind.FLOAT:
      return Number.parseFloat(node.value)
    case Kind.STRING:
    case Kind.ENUM:
      return node.value
    case Kind.BOOLEAN:
      return node.value
    case Kind.NULL:
      return null
    case Kind.LIST:
      return node.values.map((value) => valueOf(value, variables))
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, valueOf(field.value, variables)]))
  }
}

const responseKey = (field: FieldNode) => field.alias?.value ?? field.name.value

/** The fields of a selection set with fragments spread and @skip/@include applied. */
const collectFields = (selectionSet: SelectionSetNode, operation: Operation): Array<FieldNode> => {
  const fields: Array<FieldNode> = []
  const included = (node: { readonly directives?: ReadonlyArray<DirectiveNode> | undefined }) =>
    (node.directives ?? []).every((directive) => {
      const condition = directive.arguments?.find((argument) => argument.name.value === "if")
      const value = condition === undefined ? undefined : valueOf(condition.value, operation.variables)
      if (directive.name.value === "skip") return value !== true
      if (directive.name.value === "include") return value === true
      throw new QueryFailure(`unknown directive "@${directive.name.value}"`, null)
    })
  const visit = (set: SelectionSetNode, seen: ReadonlySet<string>) => {
    for (const selection of set.selections) {
      if (!included(selection)) continue
      if (selection.kind === Kind.FIELD) fields.push(selection)
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, seen)
      else {
        const name = selection.name.value
        const fragment = operation.fragments.get(name)
        if (fragment === undefined) throw new QueryFailure(`unknown fragment "${name}"`, null)
        if (seen.has(name)) throw new QueryFailure(`fragment "${name}" spreads itself`, null)
        visit(fragment.selectionSet, new Set([...seen, name]))
      }
    }
  }
  visit(selectionSet, new Set())
  return fields
}

/** Check every field, argument and sub-selection against the schema before running anything. */
const validate = (typeName: string, selectionSet: SelectionSetNode, path: Path, operation: Operation): void => {
  const fields = schema[typeName]!
  for (const field of collectFields(selectionSet, operation)) {
    const name = field.name.value
    const fieldPath = [...path, responseKey(field)]
    if (name === "__typename") {
      if (field.selectionSet !== undefined) throw new QueryFailure("scalar fields must have not selections", fieldPath)
      continue
    }
    const spec = fields[name]
    if (spec === undefined) throw new QueryFailure(`Unknown field "${name}" on type "${typeName}"`, fieldPath)
    for (const argument of field.arguments ?? []) {
      if (!spec.args.includes(argument.name.value)) {
        throw new QueryFailure(`Unknown argument "${argument.name.value}" on field "${typeName}.${name}"`, fieldPath)
      }
    }
    if (spec.type === null) {
      if (field.selectionSet !== undefined) throw new QueryFailure("scalar fields must have not selections", fieldPath)
      continue
    }
    if (field.selectionSet === undefined) {
      throw new QueryFailure(`field "${name}" of type "${spec.type}" must have a selection of subfields`, fieldPath)
    }
    validate(spec.type, field.selectionSet, name === "accounts" ? [...fieldPath, "0"] : fieldPath, operation)
  }
}

const argumentsOf = (field: FieldNode, operation: Operation): Record<string, unknown> =>
  Object.fromEntries((field.arguments ?? []).map((argument) => [argument.name.value, valueOf(argument.value, operation.variables)]))

const resolveViewer = (selectionSet: SelectionSetNode, path: Path, operation: Operation, context: Context) => {
  const viewer: Record<string, unknown> = {}
  for (const field of collectFields(selectionSet, operation)) {
    const key = responseKey(field)
    if (field.name.value === "__typename") {
      viewer[key] = "viewer"
      continue
    }
    const accountsPath = [...path, key]
    const filter = argumentsOf(field, operation).filter
    if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
      throw parsingArgs("accounts needs filter: { accountTag }", accountsPath)
    }
    const { accountTag, ...others } = filter as Record<string, unknown>
    const other = Object.keys(others)[0]
    if (other !== undefined) throw parsingArgs(`unknown field "${other}" in the accounts filter`, accountsPath)
    if (typeof accountTag !== "string") throw parsingArgs("accountTag must be a string", accountsPath)
    const account = context.account(accountTag)
    if (account === undefined) {
      throw new QueryFailure(`does not have access to the path: account ${accountTag}`, accountsPath)
    }
    viewer[key] = [resolveAccount(account, field.selectionSet!, [...accountsPath, "0"], operation, context)]
  }
  return viewer
}

const resolveAccount = (
  account: Account,
  selectionSet: SelectionSetNode,
  path: Path,
  operation: Operation,
  context: Context
) => {
  const result: Record<string, unknown> = {}
  for (const field of collectFields(selectionSet, operation)) {
    const key = responseKey(field)
    const name = field.name.value
    if (name === "__typename") result[key] = "account"
    else if (name === "settings") {
      const settings = {
        workersInvocationsAdaptive: {
          enabled: true,
          maxDuration: context.limits.maxDurationSeconds,
          maxNumberOfFields: 30,
          maxPageSize: context.limits.maxPageSize,
          notOlderThan: context.limits.notOlderThanSeconds
        }
      }
      result[key] = project("AccountSettings", settings, field.selectionSet!, operation)
    } else {
      const rows = InvocationsDataset.rows(datasetQuery(account, field, [...path, key], operation, context))
      result[key] = rows.map((row) => project(dataset, row, field.selectionSet!, operation))
    }
  }
  return result
}

/** Copy the selected fields (under their aliases) out of already computed data. */
const project = (typeName: string, value: unknown, selectionSet: SelectionSetNode, operation: Operation): unknown => {
  const source = value as Record<string, unknown>
  const result: Record<string, unknown> = {}
  for (const field of collectFields(selectionSet, operation)) {
    const name = field.name.value
    const spec = schema[typeName]![name]
    result[responseKey(field)] = name === "__typename"
      ? typeName
      : spec?.type === null || spec === undefined || field.selectionSet === undefined
      ? source[name] ?? null
      : project(spec.type, source[name] ?? {}, field.selectionSet, operation)
  }
  return result
}

const datasetQuery = (
  account: Account,
  field: FieldNode,
  path: Path,
  operation: Operation,
  context: Context
): InvocationsDataset.Query => {
  const args = argumentsOf(field, operation)
  const maxPageSize = context.limits.maxPageSize
  const limit = args.limit ?? maxPageSize
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit <= 0 || limit > maxPageSize) {
    throw new QueryFailure(`limit must be positive number and not greater than ${maxPageSize}`, path, 400)
  }
  const filter = readFilter(args.filter, path, context)
  const groupBy = requestedDimensions(field.selectionSet!, operation)
  const orderBy = readOrderBy(args.orderBy, groupBy, path)
  return {
    scripts: account.scripts.values(),
    filter,
    groupBy,
    orderBy,
    limit,
    visibleUntil: context.now - context.delayMs
  }
}

const requestedDimensions = (selectionSet: SelectionSetNode, operation: Operation) => {
  const requested = new Set<InvocationsDataset.Dimension>()
  for (const field of collectFields(selectionSet, operation)) {
    if (field.name.value !== "dimensions" || field.selectionSet === undefined) continue
    for (const dimension of collectFields(field.selectionSet, operation)) {
      const name = dimension.name.value
      if ((InvocationsDataset.dimensions as ReadonlyArray<string>).includes(name)) {
        requested.add(name as InvocationsDataset.Dimension)
      }
    }
  }
  return [...requested]
}

const readTime = (value: unknown, name: string, path: Path): number => {
  const time = typeof value === "string" ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time)) throw parsingArgs(`${name} must be a time such as "2026-11-26T10:00:00Z"`, path)
  return time
}

const readStrings = (value: unknown, name: string, path: Path): ReadonlySet<string> => {
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw parsingArgs(`${name} must be a list of strings`, path)
  }
  return new Set(value as ReadonlyArray<string>)
}

const readString = (value: unknown, name: string, path: Path): ReadonlySet<string> => {
  if (typeof value !== "string") throw parsingArgs(`${name} must be a string`, path)
  return new Set([value])
}

const readFilter = (raw: unknown, path: Path, context: Context): InvocationsDataset.Filter => {
  if (raw === undefined || raw === null) throw parsingArgs("a filter with datetime_geq or datetime_gt is required", path)
  if (typeof raw !== "object" || Array.isArray(raw)) throw parsingArgs("filter must be an object", path)
  const filter = raw as Record<string, unknown>
  for (const name of Object.keys(filter)) {
    if (!(filterFields as ReadonlyArray<string>).includes(name)) {
      throw parsingArgs(`unknown field "${name}" in filter of type "AccountWorkersInvocationsAdaptiveFilter_InputObject"`, path)
    }
  }
  const lower = filter.datetime_geq ?? filter.datetime_gt
  if (lower === undefined) throw parsingArgs("a filter with datetime_geq or datetime_gt is required", path)
  const bound = (name: "datetime_geq" | "datetime_gt" | "datetime_leq" | "datetime_lt") =>
    filter[name] === undefined ? [] : [readTime(filter[name], name, path)]
  // Time is continuous here, so inclusive and exclusive bounds select the same window.
  const start = Math.max(...bound("datetime_geq"), ...bound("datetime_gt"))
  const uppers = [...bound("datetime_leq"), ...bound("datetime_lt")]
  const end = uppers.length === 0 ? context.now : Math.min(...uppers)
  const durationSeconds = Math.ceil((end - start) / 1000)
  if (durationSeconds > context.limits.maxDurationSeconds) {
    throw new QueryFailure(
      `query time range is too large. Time range can't be wider than ${context.limits.maxDurationSeconds}s, but it's ${durationSeconds}s`,
      path,
      400
    )
  }
  if (start < context.now - context.limits.notOlderThanSeconds * 1000) {
    throw new QueryFailure(`cannot request data older than ${context.limits.notOlderThanSeconds}s`, path, 400)
  }
  const union = (...sets: ReadonlyArray<ReadonlySet<string> | undefined>) => {
    const present = sets.filter((set): set is ReadonlySet<string> => set !== undefined)
    return present.length === 0 ? undefined : new Set(present.flatMap((set) => [...set]))
  }
  const scriptNames = union(
    filter.scriptName === undefined ? undefined : readString(filter.scriptName, "scriptName", path),
    filter.scriptName_in === undefined ? undefined : readStrings(filter.scriptName_in, "scriptName_in", path)
  )
  const versionIds = union(
    filter.scriptVersion === undefined ? undefined : readString(filter.scriptVersion, "scriptVersion", path),
    filter.scriptVersion_in === undefined ? undefined : readStrings(filter.scriptVersion_in, "scriptVersion_in", path)
  )
  const statuses = union(
    filter.status === undefined ? undefined : readString(filter.status, "status", path),
    filter.status_in === undefined ? undefined : readStrings(filter.status_in, "status_in", path)
  )
  return {
    start,
    end,
    ...(scriptNames === undefined ? {} : { scriptNames }),
    ...(versionIds === undefined ? {} : { versionIds }),
    ...(statuses === undefined ? {} : { statuses })
  }
}

const readOrderBy = (
  raw: unknown,
  groupBy: ReadonlyArray<InvocationsDataset.Dimension>,
  path: Path
): Array<InvocationsDataset.Ordering> => {
  if (raw === undefined || raw === null) return []
  // GraphQL coerces a single value where a list is expected.
  const entries = Array.isArray(raw) ? raw : [raw]
  return entries.map((entry) => {
    const match = typeof entry === "string" ? /^(.+)_(ASC|DESC)$/.exec(entry) : null
    const key = match?.[1]
    if (match === null || !(InvocationsDataset.orderKeys as ReadonlyArray<string | undefined>).includes(key)) {
      throw parsingArgs(`unknown orderBy value ${JSON.stringify(entry)}`, path)
    }
    if (
      (InvocationsDataset.dimensions as ReadonlyArray<string | undefined>).includes(key) &&
      !groupBy.includes(key as InvocationsDataset.Dimension)
    ) {
      throw parsingArgs(`cannot order by ${key}: it is not one of the requested dimensions`, path)
    }
    return { key: key as InvocationsDataset.OrderKey, direction: match[2] as "ASC" | "DESC" }
  })
}
