import { defineConfig } from "vitest/config"

// One project per package: `pnpm test` runs every test of every package. The tests of whole
// processes on the real clock are projects of their own, grouped by how they share the machine
// (vitest.groups.ts).
export default defineConfig({
  test: {
    projects: [
      "packages/*", "adapters/*", "examples/*", "adapters/postgres/vitest.reliability.config.ts",
      "adapters/server/vitest.processes.config.ts", "adapters/cli/vitest.processes.config.ts",
      "adapters/github-action/vitest.processes.config.ts"
    ]
  }
})
