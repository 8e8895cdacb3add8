import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

/**
 * Whole server processes (`pnpm start`'s entry point) on the real clock: they run in a project
 * of their own, after all the other tests (`groupOrder`), one file at a time, so that their
 * timings neither suffer from nor slow down the rest.
 */
export default defineProject({
  test: {
    name: "@canaryroll/server processes",
    include: ["test/processes/**/*.test.ts"],
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: 300_000,
    hookTimeout: 60_000
  }
})
