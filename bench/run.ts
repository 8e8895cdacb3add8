/**
 * `pnpm bench`: every benchmark. Prints one JSON line per measurement
 * (`{ name, p50_ms, p99_ms, per_s, peer }`, or `{ name, value, unit }` for counts);
 * `--quick` takes fewer samples (the whole run in under 2 minutes). Results and method:
 * docs/benchmarks.md.
 */
import * as CloudflareBench from "./CloudflareBench.ts"
import * as CoreBench from "./CoreBench.ts"
import * as LiveBench from "./LiveBench.ts"
import * as PostgresSchedulerBench from "./PostgresSchedulerBench.ts"
import * as PostgresStoreBench from "./PostgresStoreBench.ts"
import * as ServerBench from "./ServerBench.ts"

const quick = process.argv.includes("--quick")
const samples = (full: number) => quick ? Math.max(5, Math.round(full / 10)) : full

await CoreBench.run(samples)
await CloudflareBench.run(samples)
await PostgresStoreBench.run(samples)
await PostgresSchedulerBench.run(samples)
await ServerBench.run(samples)
await LiveBench.run(samples)
