/**
 * The IdempotencyKeys contract on PostgreSQL (`PgIdempotencyKeys`), exactly as it runs on memory:
 * every test gets a new, migrated schema of this file's database.
 */
import { Migrations } from "@canaryroll/postgres"
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { Layer } from "effect"
import * as IdempotencyKeys from "../src/IdempotencyKeys.ts"
import * as IdempotencyKeysContract from "./contracts/IdempotencyKeysContract.ts"

const database = TestDatabase.forFile()

IdempotencyKeysContract.suite("postgres", () =>
  IdempotencyKeys.layerPostgres().pipe(Layer.provide(Migrations.layer), Layer.provide(database.freshSchema())))
