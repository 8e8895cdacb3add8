/**
 * The ReleaseSummaries contract on PostgreSQL, exactly as it runs on memory: the summaries the
 * event store's read-model hook keeps (`layerPorts`), read by `PgReleaseSummaries`, in a new
 * migrated schema per test.
 */
import { ReleaseSummariesContract } from "@canaryroll/app/testing"
import { Layer } from "effect"
import { layerPorts, PgReleaseSummaries } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

ReleaseSummariesContract.suite(
  "postgres",
  () => PgReleaseSummaries.layer.pipe(Layer.provideMerge(layerPorts()), Layer.provideMerge(database.freshSchema()))
)
