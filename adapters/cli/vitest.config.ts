import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    // The command against a real server, on the real clock: vitest.processes.config.ts.
    exclude: ["test/processes/**", "**/node_modules/**"],
    // One embedded Postgres for the run (or DATABASE_URL), for the commands that run against the
    // database themselves (`admin create`); see @canaryroll/postgres/test-database.
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    testTimeout: 30_000
  }
})
