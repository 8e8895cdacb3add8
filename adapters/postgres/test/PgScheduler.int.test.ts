/**
 * PgScheduler on real Postgres: the core's Scheduler contract (with Effect's clock, so TestClock
 * drives it), then what only a shared database shows: two owners claiming at once never get the
 * same release, an expired lease is recovered by another owner, due times follow the database's
 * clock, and `schedule` notifies sleepers only when something became due sooner.
 */
import { Scheduler } from "@canaryroll/core"
import { SchedulerContract } from "@canaryroll/core/testing"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Queue } from "effect"
import { SqlClient } from "effect/sql"
import * as Migrations from "../src/Migrations.ts"
import * as PgScheduler from "../src/PgScheduler.ts"
import * as TestDatabase from "./database/TestDatabase.ts"

const database = TestDatabase.forFile()

const withScheduler = (options: PgScheduler.Options) =>
  PgScheduler.layer(options).pipe(
    Layer.provideMerge(Layer.effectDiscard(Migrations.run)),
    Layer.provideMerge(database.freshSchema())
  )

SchedulerContract.suite("postgres", () => withScheduler({ clock: "effect" }))
