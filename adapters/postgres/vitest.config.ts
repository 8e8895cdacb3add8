import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    // Real processes on the real clock: they run alone, after everything else (see
    // vitest.reliability.config.ts), so that their timings do not compete with other tests.
    exclude: ["test/reliability/**", "**/node_modules/**"],
    // One embedded Postgres for the run (or DATABASE_URL); see test/database/TestDatabase.ts.
    globalSetup: ["./test/database/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
