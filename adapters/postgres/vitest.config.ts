import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    // One embedded Postgres for the run (or DATABASE_URL); see test/database/TestDatabase.ts.
    globalSetup: ["./test/database/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
