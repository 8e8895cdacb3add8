import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

/**
 * The bundled action (dist/index.js) as the runner runs it, against a sandbox server process on
 * the real clock, with a real wrangler for `upload: true`: a project of its own that runs after
 * the others (`groupOrder`).
 */
export default defineProject({
  test: {
    name: "@canaryroll/github-action processes",
    include: ["test/processes/**/*.test.ts"],
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: 180_000,
    hookTimeout: 90_000
  }
})
