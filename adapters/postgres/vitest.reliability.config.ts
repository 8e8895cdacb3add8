import { defineProject } from "vitest/config"
import { contendedProcesses } from "../../vitest.groups.ts"

/**
 * The reliability tests (scheduler processes racing, killed, and Postgres restarted) run on the
 * real clock with real processes. On a 2-core machine they would slow each other and every other
 * test down, so they run in a project of their own, one file at a time and alone
 * (`vitest.groups.ts`).
 */
export default defineProject({
  test: {
    name: "@canaryroll/postgres reliability",
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["./test/database/globalSetup.ts"],
    ...contendedProcesses,
    testTimeout: 300_000,
    hookTimeout: 60_000
  }
})
