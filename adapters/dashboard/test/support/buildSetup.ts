/** Vitest global setup: the dashboard's build, made now when it is missing or stale. */
import { ensureBuilt } from "../../build/index.ts"

export default async function setup() {
  await ensureBuilt()
}
