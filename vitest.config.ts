import { defineConfig } from "vitest/config"

// One project per package: `pnpm test` runs every test of every package.
export default defineConfig({
  test: {
    projects: ["packages/*", "adapters/*", "examples/*"]
  }
})
