/**
 * The timeline a plan implies (the plans screen's preview): one healthy check per interval
 * covering each soak, at least one per step, each judged after the analytics delay.
 */
import { assert, describe, it } from "vitest"
import { durationText, timelineOf } from "../src/plans/PlanTimeline.ts"

describe("timelineOf", () => {
  const policy = { intervalSeconds: 60, analyticsDelaySeconds: 60, failuresBeforeAction: 3 }

  it("covers each soak with whole intervals and waits out the analytics delay after each step", () => {
    const timeline = timelineOf([{ percentage: 10, waitSeconds: 300 }, { percentage: 100, waitSeconds: 90 }], policy)
    assert.deepStrictEqual(timeline.steps.map((step) => [step.checks, step.startsAt, step.endsAt]), [[5, 0, 360], [2, 360, 540]])
    assert.strictEqual(timeline.earliestCompletion, 540)
    // Where each step's shift falls between two check boundaries: up to one interval per step.
    assert.strictEqual(timeline.alignmentMargin, 120)
    assert.strictEqual(timeline.timeToAct, 3 * 60 + 60)
  })

  it("still needs one healthy check at a step with no soak", () => {
    const timeline = timelineOf([{ percentage: 0, waitSeconds: 0 }, { percentage: 100, waitSeconds: 0 }], { ...policy, analyticsDelaySeconds: 0 })
    assert.deepStrictEqual(timeline.steps.map((step) => step.checks), [1, 1])
    assert.strictEqual(timeline.earliestCompletion, 120)
  })
})

describe("durationText", () => {
  it("names the two largest units", () => {
    assert.strictEqual(durationText(0), "0 s")
    assert.strictEqual(durationText(45), "45 s")
    assert.strictEqual(durationText(3_900), "1 h 5 min")
    assert.strictEqual(durationText(3_600), "1 h")
    assert.strictEqual(durationText(2 * 86_400 + 3 * 3_600 + 59), "2 d 3 h")
  })
})
