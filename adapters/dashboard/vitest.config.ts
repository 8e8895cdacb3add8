import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { realClockProcesses } from "../../vitest.groups.ts"

/**
 * The dashboard in a real headless Chromium against a real server process (embedded Postgres,
 * the Cloudflare simulator), on the real clock: it runs with the other process tests in the
 * real-clock group (`vitest.groups.ts`). The global setup builds the dashboard when its build is
 * missing or stale, so the time it takes shows once, not in a test.
 */
export default defineProject({
  test: {
    name: "@canaryroll/dashboard browser",
    include: ["test/**/*.test.ts"],
    globalSetup: [
      fileURLToPath(import.meta.resolve("@canaryroll/postgres/test-database/global-setup")),
      fileURLToPath(new URL("test/support/globalSetup.ts", import.meta.url))
    ],
    ...realClockProcesses,
    testTimeout: 180_000,
    hookTimeout: 120_000
  }
})
