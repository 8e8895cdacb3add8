import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    // Real server processes on the real clock: a project of their own (vitest.processes.config.ts).
    exclude: ["test/processes/**", "**/node_modules/**"],
    // One embedded Postgres for the run (or DATABASE_URL); see @canaryroll/postgres/test-database.
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
