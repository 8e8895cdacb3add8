import { defineProject } from "vitest/config"

/**
 * The reliability tests (scheduler processes racing, killed, and Postgres restarted) run on the
 * real clock with real processes. On a 2-core machine they would slow each other and every other
 * test down, so they run in a project of their own: after all the others (`groupOrder`), one file
 * at a time.
 */
export default defineProject({
  test: {
    name: "@canaryroll/postgres reliability",
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["./test/database/globalSetup.ts"],
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: 300_000,
    hookTimeout: 60_000
  }
})
