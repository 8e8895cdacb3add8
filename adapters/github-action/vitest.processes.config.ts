import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { realClockProcesses } from "../../vitest.groups.ts"

/**
 * The bundled action (dist/index.js) as the runner runs it, against a sandbox server process on
 * the real clock, with a real wrangler for `upload: true`: a project of its own in the
 * real-clock group (`vitest.groups.ts`).
 */
export default defineProject({
  test: {
    name: "@canaryroll/github-action processes",
    include: ["test/processes/**/*.test.ts"],
    globalSetup: [fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup"))],
    ...realClockProcesses,
    testTimeout: 180_000,
    hookTimeout: 90_000
  }
})
