/**
 * A release plan: the traffic steps a canary walks through and the health policy that judges it.
 *
 * Plans arrive from people (dashboard, API, CLI), so every rule is a Schema check whose failure
 * names the offending field (`steps[2].percentage: …`). A release keeps a snapshot of its plan,
 * so editing a plan never changes a release already running.
 *
 * @since 0.1.0
 */
import { Effect, Result, Schema } from "effect"
import * as ValidationError from "./ValidationError.ts"

/** Seven days: the longest soak a single step may ask for. */
export const maxWaitSeconds = 7 * 24 * 60 * 60
export const maxSteps = 20

/** Exact: `n` is its own rounding to `decimals` places (no tolerance, so 50.000000000001 is refused). */
const hasAtMostDecimals = (n: number, decimals: number) => {
  const scale = 10 ** decimals
  return Math.round(n * scale) / scale === n
}

/** The smallest share Cloudflare's deployments take besides 0 (percentages have two decimals). */
export const minPercentage = 0.01

/**
 * A step's share of traffic for the canary, as Cloudflare accepts it: 0 (a smoke-test stage that
 * serves nothing), or 0.01 to 100 with at most two decimals.
 */
export const Percentage = Schema.Finite.check(
  Schema.makeFilter((n: number) =>
    n === 0 || (n >= minPercentage && n <= 100)
      ? undefined
      : `must be 0 or between ${minPercentage} and 100, got ${n}`
  ),
  Schema.makeFilter((n: number) => hasAtMostDecimals(n, 2) ? undefined : `must have at most two decimals, got ${n}`)
)

/** The looser rule events written before the exact checks were recorded under. */
const StoredPercentage = Schema.Finite.check(
  Schema.makeFilter((n: number) => n >= 0 && n <= 100 ? undefined : `must be between 0 and 100, got ${n}`)
)

const WaitSeconds = Schema.Int.check(
  Schema.makeFilter((n: number) =>
    n >= 0 && n <= maxWaitSeconds
      ? undefined
      : `must be between 0 and ${maxWaitSeconds} seconds (7 days), got ${n}`
  )
)

export const Step = Schema.Struct({ percentage: Percentage, waitSeconds: WaitSeconds })
export type Step = typeof Step.Type

const StoredStep = Schema.Struct({ percentage: StoredPercentage, waitSeconds: WaitSeconds })

const stepsOf = <S extends Schema.Top & { readonly Type: Step }>(step: S) =>
  Schema.Array(step).check(
    Schema.makeFilter((steps: ReadonlyArray<Step>) =>
      steps.length >= 1 && steps.length <= maxSteps
        ? undefined
        : `must have between 1 and ${maxSteps} steps, got ${steps.length}`,
      // The API's OpenAPI document declares the same bounds (approximate: JSON Schema says less).
      { toJsonSchema: () => [{ minItems: 1, maxItems: maxSteps }, true] }, true),
    Schema.makeFilter((steps: ReadonlyArray<Step>) => {
      const issues: Array<Schema.FilterIssue> = []
      steps.forEach((step, i) => {
        const previous = steps[i - 1]
        if (previous !== undefined && step.percentage <= previous.percentage) {
          issues.push({
            path: [i, "percentage"],
            issue: `must be greater than the previous step's ${previous.percentage} (percentages strictly increase)`
          })
        }
      })
      const last = steps[steps.length - 1]
      if (last !== undefined && last.percentage !== 100) {
        issues.push({ path: [steps.length - 1, "percentage"], issue: `the last step must be 100, got ${last.percentage}` })
      }
      return issues
    })
  )

export const Steps = stepsOf(Step)

export const OnFailure = Schema.Literals(["rollback", "pause"])
export type OnFailure = typeof OnFailure.Type

/** `hold`: an inconclusive check neither promotes nor counts as a failure. `fail`: it counts as unhealthy. */
export const OnInconclusive = Schema.Literals(["hold", "fail"])
export type OnInconclusive = typeof OnInconclusive.Type

/** Thresholds are kept to four decimals (0.0001 = 0.01%) so that health math can be exact. */
export const thresholdDecimals = 4

const ratio = Schema.Finite.check(
  Schema.makeFilter((n: number) => n >= 0 && n <= 1 ? undefined : `must be a fraction between 0 and 1, got ${n}`),
  Schema.makeFilter((n: number) =>
    hasAtMostDecimals(n, thresholdDecimals)
      ? undefined
      : `must have at most ${thresholdDecimals} decimals (0.0001 = 0.01%), got ${n}`
  )
)
const storedRatio = Schema.Finite.check(
  Schema.makeFilter((n: number) => n >= 0 && n <= 1 ? undefined : `must be a fraction between 0 and 1, got ${n}`)
)
const intBetween = (minimum: number, maximum: number) =>
  Schema.Int.check(
    Schema.makeFilter((n: number) =>
      n >= minimum && n <= maximum ? undefined : `must be between ${minimum} and ${maximum}, got ${n}`
    )
  )

const healthPolicyOf = (fraction: typeof ratio) =>
  Schema.Struct({
    intervalSeconds: intBetween(10, 3600).pipe(Schema.withDecodingDefaultKey(Effect.succeed(60))),
    failuresBeforeAction: intBetween(1, 20).pipe(Schema.withDecodingDefaultKey(Effect.succeed(3))),
    maxErrorRate: fraction.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.01))),
    maxErrorRateIncrease: Schema.optionalKey(fraction),
    minRequests: intBetween(0, 1_000_000_000).pipe(Schema.withDecodingDefaultKey(Effect.succeed(100))),
    onInconclusive: OnInconclusive.pipe(Schema.withDecodingDefaultKey(Effect.succeed("hold"))),
    analyticsDelaySeconds: intBetween(0, 3600).pipe(Schema.withDecodingDefaultKey(Effect.succeed(60))),
    onFailure: OnFailure.pipe(Schema.withDecodingDefaultKey(Effect.succeed("rollback")))
  })

/**
 * How a canary is judged. Error rates are fractions (0.01 = 1%) with at most four decimals.
 * `maxErrorRateIncrease` compares against the stable version's rate measured in the same window.
 */
export const HealthPolicy = healthPolicyOf(ratio)
export type HealthPolicy = typeof HealthPolicy.Type
export type HealthPolicyInput = typeof HealthPolicy.Encoded

/** What people send: every rule Cloudflare and exact health math need. */
export const Plan = Schema.Struct({
  steps: Steps,
  health: HealthPolicy.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})
export type Plan = typeof Plan.Type
export type PlanInput = typeof Plan.Encoded

/**
 * The plan snapshot as events store it. STORAGE FORMAT: looser than `Plan` on purpose: events
 * recorded before percentages and thresholds were checked exactly (any fraction of a percent,
 * thresholds with more than four decimals) must still decode. New plans only come from `decode`.
 */
/**
 * A health policy as storage holds it (a plan snapshot in an event, a plan or a Worker's policy
 * in the directory): thresholds saved before they were kept to four decimals still read back.
 */
export const StoredHealthPolicy = healthPolicyOf(storedRatio)

export const Stored = Schema.Struct({
  steps: stepsOf(StoredStep),
  health: StoredHealthPolicy.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})

/** The plan failed validation; `issues` name each offending field. */
export class PlanInvalid extends Schema.TaggedError<PlanInvalid>()("PlanInvalid", {
  message: Schema.String,
  issues: Schema.Array(ValidationError.FieldIssue)
}) {}

/** Validates untrusted input into a plan, collecting every problem with its field path. */
export const decode = (input: unknown): Result.Result<Plan, PlanInvalid> =>
  Schema.decodeUnknownResult(Plan)(input, { errors: "all" }).pipe(
    Result.mapError((error) => {
      const issues = ValidationError.fieldIssues(error)
      return new PlanInvalid({ message: ValidationError.describe("plan", issues), issues })
    })
  )

/** Builds a plan from trusted literal input (tests, examples); throws on an invalid plan. */
export const make = (input: PlanInput): Plan => {
  const result = decode(input)
  if (Result.isFailure(result)) throw result.failure
  return result.success
}

/** The sum of every step's soak: the shortest time a healthy release can take. */
export const totalWaitSeconds = (plan: Plan): number => plan.steps.reduce((sum, step) => sum + step.waitSeconds, 0)
