import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { realClockProcesses } from "../../vitest.groups.ts"

/**
 * The `canaryroll` command as a process against a sandbox server process (`canaryroll serve`) on
 * the real clock: a project of its own in the real-clock group (`vitest.groups.ts`), like the
 * server's process tests.
 */
export default defineProject({
  test: {
    name: "@canaryroll/cli processes",
    include: ["test/processes/**/*.test.ts"],
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    ...realClockProcesses,
    testTimeout: 180_000,
    hookTimeout: 90_000
  }
})
