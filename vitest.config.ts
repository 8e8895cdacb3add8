import { defineConfig } from "vitest/config"

// One project per package: `pnpm test` runs every test of every package. The Postgres
// reliability tests and the server process tests (real processes, real clock) are projects of
// their own that run last.
export default defineConfig({
  test: {
    projects: [
      "packages/*", "adapters/*", "examples/*", "adapters/postgres/vitest.reliability.config.ts",
      "adapters/server/vitest.processes.config.ts", "adapters/cli/vitest.processes.config.ts",
      "adapters/github-action/vitest.processes.config.ts"
    ]
  }
})
