/**
 * TeamTokenAccess port: what a request made with a team token needs before its handler runs, in
 * one lookup: the token (unrevoked, its last use stamped when due, exactly as
 * `ApiTokens.teamTokenByHash`), the team its path names (as `Teams.byRef`: by id, else by slug),
 * and, when the request reads one release, that release's summary within that team (as
 * `ReleaseSummaries.get`). The `Authentication` middleware asks it for a `crt_…` token on a team's
 * path; `TeamAccess` and the release's `GET` then decide from what it found, by the same rules as
 * from the three ports (see `http/Access.ts`). It exists for speed: `GET` of a release is what the
 * GitHub Action and the CLI poll, and on a database the three lookups are three round trips.
 *
 * Contract (the `TeamTokenAccessContract` suite in `@canaryroll/app/testing`): each part is what
 * its port answers for the same input, whatever the others found (a team is found even for a
 * token of another team, or none; a release only within the team found).
 *
 * The memory layer asks the three ports in context; the Postgres layer (`PgTeamTokenAccess` in
 * `@canaryroll/postgres`) answers in one statement.
 *
 * @since 0.3.0
 */
import type { ReleaseSummary } from "@canaryroll/core"
import { Context, Effect, Layer, Option } from "effect"
import { ReleaseSummaries } from "../readmodel/ReleaseSummaries.ts"
import type { StorageUnavailable } from "../Storage.ts"
import { ApiTokens, type TeamToken } from "./ApiTokens.ts"
import { type Team, Teams } from "./Teams.ts"

export interface Lookup {
  /** The token's hash (`ApiToken.hash`). */
  readonly hash: string
  /** For the last-use stamp. */
  readonly now: number
  /** The team the path names: an id or a slug. */
  readonly teamRef: string
  /** The release the request reads, if it reads one. */
  readonly releaseId: string | null
}

export interface Found {
  readonly token: Option.Option<TeamToken>
  readonly team: Option.Option<Team>
  /** `None` when no release was asked for, no team was found, or the team has no such release. */
  readonly release: Option.Option<ReleaseSummary.ReleaseSummary>
}

export class TeamTokenAccess extends Context.Service<TeamTokenAccess, {
  readonly find: (lookup: Lookup) => Effect.Effect<Found, StorageUnavailable>
}>()("@canaryroll/app/TeamTokenAccess") {}

/** The lookup made of the three ports in context, one after the other. */
export const make: Effect.Effect<
  TeamTokenAccess["Service"],
  never,
  ApiTokens | Teams | ReleaseSummaries
> = Effect.gen(function*() {
  const tokens = yield* ApiTokens
  const teams = yield* Teams
  const summaries = yield* ReleaseSummaries
  return TeamTokenAccess.of({
    find: ({ hash, now, releaseId, teamRef }) =>
      Effect.gen(function*() {
        const token = yield* tokens.teamTokenByHash(hash, now)
        const team = yield* teams.byRef(teamRef)
        const release = Option.isNone(team) || releaseId === null
          ? Option.none()
          : yield* summaries.get(team.value.id, releaseId)
        return { token, team, release }
      })
  })
})

/** Over the memory (or any) layers of `ApiTokens`, `Teams` and `ReleaseSummaries`. */
export const layerMemory: Layer.Layer<TeamTokenAccess, never, ApiTokens | Teams | ReleaseSummaries> = Layer.effect(
  TeamTokenAccess,
  make
)
