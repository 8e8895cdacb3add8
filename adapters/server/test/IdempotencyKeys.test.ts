/** The IdempotencyKeys contract on the memory layer. */
import * as IdempotencyKeys from "../src/IdempotencyKeys.ts"
import * as IdempotencyKeysContract from "./contracts/IdempotencyKeysContract.ts"

IdempotencyKeysContract.suite("memory", () => IdempotencyKeys.layerMemory())
