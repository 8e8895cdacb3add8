#!/usr/bin/env node
/**
 * The `canaryroll` executable: runs the command tree on the process's arguments and exits with
 * the code it settles on. SIGINT/SIGTERM interrupt it (`serve` then shuts down cleanly).
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect, Exit } from "effect"
import * as Cli from "./Cli.ts"

NodeRuntime.runMain(Cli.run(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer)), {
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 1)
})
