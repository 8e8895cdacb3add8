/**
 * The core's port contracts on PostgreSQL, exactly as they run on memory: every test gets a new,
 * migrated schema in this file's database.
 */
import { EventStoreContract, OutboxContract } from "@canaryroll/core/testing"
import { Layer } from "effect"
import { layerPorts } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()
const storage = () => layerPorts().pipe(Layer.provide(database.freshSchema()))

EventStoreContract.suite("postgres", storage)

OutboxContract.suite("postgres", storage)
