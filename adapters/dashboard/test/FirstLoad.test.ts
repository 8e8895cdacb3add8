/**
 * The first-load budget (docs/dashboard.md): a screen opened first loads at most 200 KB of
 * gzip-compressed JavaScript. Sizes of the build (made by the global setup), not timings.
 */
import { assert, describe, it } from "vitest"
import * as FirstLoad from "../build/FirstLoad.ts"

const budget = 200 * 1024

describe("first load", () => {
  it("every screen opened first loads at most 200 KB of JavaScript (gzip), its routes split", () => {
    const loads = FirstLoad.measure()
    assert.strictEqual(loads.length, FirstLoad.screens.length)
    for (const load of loads) {
      assert.isAtMost(load.gzipBytes, budget, `${load.name}: ${(load.gzipBytes / 1024).toFixed(1)} KB`)
      // Split: no screen loads everything (the entry plus at least the screen's own chunk).
      assert.isAtLeast(load.files, 2, load.name)
    }
  })
})
