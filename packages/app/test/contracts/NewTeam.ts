/**
 * What the directory contract suites need from the storage under test besides the ports: a team
 * to own the rows (Postgres has foreign keys to `teams`; memory needs only an id). Each storage's
 * test run provides its own layer of it next to the ports.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"

export class NewTeam extends Context.Service<NewTeam, {
  /** A new team's id. */
  readonly make: Effect.Effect<string, unknown>
}>()("@canaryroll/app/testing/NewTeam") {}

/** Memory: any fresh id is a team. */
export const layerMemory: Layer.Layer<NewTeam> = Layer.succeed(
  NewTeam,
  NewTeam.of({ make: Effect.sync(() => `team_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`) })
)

export const make: Effect.Effect<string, unknown, NewTeam> = NewTeam.use((teams) => teams.make)
