/**
 * Given/when/then for the release decider, after emmett's `DeciderSpecification`: the state is
 * always the fold of the given events, so a spec reads as the history a release starts from.
 *
 *   given([created]).when(start).then([started, stepStarted])    // allowed: exactly these events
 *   given([created, cancelled]).when(cancel).thenNothing()       // already done: no events
 *   given([]).when(pause).thenRejects("not_found", /does not exist/)
 *
 * @since 0.1.0
 */
import { assert } from "@effect/vitest"
import { Result } from "effect"
import { Release, ReleaseDecider } from "../../src/index.ts"
import type { ReleaseCommand, ReleaseEvent } from "../../src/index.ts"

type Events = ReadonlyArray<ReleaseEvent.ReleaseEvent>

export const given = (history: Events) => ({
  when: (command: ReleaseCommand.ReleaseCommand) => {
    const decision = ReleaseDecider.decide(command, Release.fold(history))
    const decided = (): Events => {
      if (Result.isFailure(decision)) {
        assert.fail(`expected events, got rejection ${decision.failure.code}: ${decision.failure.message}`)
      }
      return decision.success
    }
    return {
      then: (expected: Events): void => assert.deepStrictEqual(decided(), expected),
      thenNothing: (): void => assert.deepStrictEqual(decided(), []),
      thenRejects: (code: ReleaseDecider.RejectionCode, message: RegExp): void => {
        if (Result.isSuccess(decision)) {
          assert.fail(`expected a ${code} rejection, got events ${JSON.stringify(decision.success)}`)
        }
        assert.strictEqual(decision.failure.code, code, decision.failure.message)
        assert.match(decision.failure.message, message)
      }
    }
  }
})
