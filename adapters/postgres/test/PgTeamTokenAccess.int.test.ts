/**
 * The TeamTokenAccess contract on PostgreSQL, exactly as it runs on memory: `PgTeamTokenAccess`'s
 * one statement over the directory's tables and the summaries the event store's read-model hook
 * keeps (`layerPorts`), in a new migrated schema per test.
 */
import { TeamTokenAccessContract } from "@canaryroll/app/testing"
import { Layer } from "effect"
import { layerPorts, Migrations, PgApiTokens, PgPeople, PgReleaseSummaries, PgTeams, PgTeamTokenAccess, PgTransactions } from "../src/index.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

TeamTokenAccessContract.suite("postgres", () =>
  Layer.mergeAll(
    PgTeamTokenAccess.layer,
    PgPeople.layer,
    PgTeams.layer,
    PgApiTokens.layer,
    PgTransactions.layer,
    PgReleaseSummaries.layer,
    layerPorts()
  ).pipe(Layer.provide(Migrations.layer), Layer.provideMerge(database.freshSchema())))
