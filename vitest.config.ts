import { defineConfig } from "vitest/config"

// One project per package: `pnpm test` runs every test of every package. The Postgres
// reliability tests (real processes, real clock) are a project of their own that runs last.
export default defineConfig({
  test: {
    projects: ["packages/*", "adapters/*", "examples/*", "adapters/postgres/vitest.reliability.config.ts"]
  }
})
