import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    // The bundled action against a real server, on the real clock: vitest.processes.config.ts.
    exclude: ["test/processes/**", "**/node_modules/**"],
    testTimeout: 30_000
  }
})
