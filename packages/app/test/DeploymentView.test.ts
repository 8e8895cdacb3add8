/**
 * `GET` of a release sends `toDeployment`'s object without the `Deployment` schema's encoding
 * (the endpoint every client polls; see `http/Deployments.ts`). That is only right while the
 * object is already the encoded form: the same JSON, key for key, as the schema would send.
 */
import { Schemas } from "@canaryroll/api"
import { ReleaseSummary } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { toDeployment } from "../src/http/Deployments.ts"
import { ReleaseHistories } from "./contracts/index.ts"

const encode = Schema.encodeSync(Schemas.Deployment)

describe("toDeployment", () => {
  it("is the Deployment schema's encoded form, byte for byte, for releases in every state", () => {
    const histories = ReleaseHistories.make({ teams: 3, releasesPerTeam: 8, decisions: 40 })
    const streams = new Map<string, Array<(typeof histories)[number]["events"][number]>>()
    const statuses = new Set<string>()
    for (const append of histories) {
      const events = streams.get(append.streamId) ?? []
      events.push(...append.events)
      streams.set(append.streamId, events)
      // Every prefix of every stream: the release as a poll finds it at each step.
      const summary = ReleaseSummary.project(events)
      if (summary === undefined) continue
      statuses.add(summary.status)
      const deployment = toDeployment(summary)
      assert.strictEqual(JSON.stringify(deployment), JSON.stringify(encode(deployment)))
    }
    assert.isAtLeast(statuses.size, 3, "the histories reach several states")
  })
})
