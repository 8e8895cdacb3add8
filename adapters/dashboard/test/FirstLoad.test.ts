/**
 * The first-load budget (docs/dashboard.md): every screen loads at most 200 KB of
 * gzip-compressed JavaScript when it is the first page opened (a link from the Action, the CLI, a
 * notification or a bookmark can open any of them); routes are split. Sizes of the build (made by
 * the global setup), not timings.
 */
import { assert, describe, it } from "vitest"
import * as FirstLoad from "../build/FirstLoad.ts"

const budget = 200 * 1024

describe("first load", () => {
  it("every screen loads at most 200 KB of JavaScript (gzip) first, its routes split", () => {
    const loads = FirstLoad.measure()
    assert.strictEqual(loads.length, FirstLoad.screens.length)
    for (const load of loads) {
      assert.isAtMost(load.gzipBytes, budget, `${load.name}: ${(load.gzipBytes / 1024).toFixed(1)} KB`)
      // Split: no screen loads everything (the entry plus at least the screen's own chunk).
      assert.isAtLeast(load.files, 2, load.name)
    }
  })
})
