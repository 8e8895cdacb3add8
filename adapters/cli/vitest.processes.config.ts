import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

/**
 * The `canaryroll` command as a process against a sandbox server process (`canaryroll serve`) on
 * the real clock: a project of its own that runs after the others (`groupOrder`), like the
 * server's process tests.
 */
export default defineProject({
  test: {
    name: "@canaryroll/cli processes",
    include: ["test/processes/**/*.test.ts"],
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: 180_000,
    hookTimeout: 90_000
  }
})
