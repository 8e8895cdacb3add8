import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

/**
 * The dashboard in a real headless Chromium against a real server process (embedded Postgres,
 * the Cloudflare simulator), on the real clock: it runs with the other process tests, last
 * (`groupOrder`), one file at a time. The global setup builds the dashboard when its build is
 * missing or stale, so the time it takes shows once, not in a test.
 */
export default defineProject({
  test: {
    name: "@canaryroll/dashboard browser",
    include: ["test/**/*.test.ts"],
    globalSetup: [
      fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup")),
      fileURLToPath(new URL("test/support/buildSetup.ts", import.meta.url))
    ],
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: 180_000,
    hookTimeout: 120_000
  }
})
