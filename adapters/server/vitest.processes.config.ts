import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { realClockProcesses } from "../../vitest.groups.ts"

/**
 * Whole server processes (`pnpm start`'s entry point) on the real clock: a project of its own in
 * the real-clock group (`vitest.groups.ts`), apart from the CPU-bound unit tests.
 */
export default defineProject({
  test: {
    name: "@canaryroll/server processes",
    include: ["test/processes/**/*.test.ts"],
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    ...realClockProcesses,
    testTimeout: 300_000,
    hookTimeout: 60_000
  }
})
