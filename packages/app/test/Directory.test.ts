/** The directory's contract suites on the memory layers (one `MemoryDirectory` per test). */
import { Layer } from "effect"
import * as CloudflareAccounts from "../src/directory/CloudflareAccounts.ts"
import * as IdempotencyKeys from "../src/directory/IdempotencyKeys.ts"
import * as LoginThrottle from "../src/directory/LoginThrottle.ts"
import * as MemoryDirectory from "../src/directory/MemoryDirectory.ts"
import * as Plans from "../src/directory/Plans.ts"
import * as Workers from "../src/directory/Workers.ts"
import * as Storage from "../src/Storage.ts"
import * as CloudflareAccountsContract from "./contracts/CloudflareAccountsContract.ts"
import * as IdempotencyKeysContract from "./contracts/IdempotencyKeysContract.ts"
import * as LoginThrottleContract from "./contracts/LoginThrottleContract.ts"
import * as NewTeam from "./contracts/NewTeam.ts"
import * as PlansContract from "./contracts/PlansContract.ts"
import * as WorkersContract from "./contracts/WorkersContract.ts"

const directory = () =>
  Layer.mergeAll(CloudflareAccounts.layerMemory, Workers.layerMemory, Plans.layerMemory).pipe(
    Layer.provideMerge(MemoryDirectory.layer),
    Layer.merge(Storage.layerMemory),
    Layer.merge(NewTeam.layerMemory)
  )

CloudflareAccountsContract.suite("memory", directory)
WorkersContract.suite("memory", directory)
PlansContract.suite("memory", directory)
LoginThrottleContract.suite("memory", LoginThrottle.layerMemory)
IdempotencyKeysContract.suite("memory", () => IdempotencyKeys.layerMemory())
