/**
 * PgTeamTokenAccess: the `TeamTokenAccess` port of `@canaryroll/app` in one statement: the team
 * token by its hash (as `PgApiTokens`), the team by id or slug (as `PgTeams.byRef`) and the
 * release's summary within that team (as `PgReleaseSummaries.get`). The token's last use is
 * stamped when due, as by `PgApiTokens`, by a second statement at most once per resolution. One
 * round trip where the three ports take three: what `GET` of a release, polled by the GitHub
 * Action and the CLI, costs on the database.
 *
 * The layer remembers what never changes about a token it found: its record without its last use
 * and revocation, and its team's id, slug and creation time (no statement changes those; a token
 * is revoked, never edited). A token it remembers, on its own team's path, is then looked up by
 * primary keys: the token by id, unrevoked, its team by id, the summary by team and release. That
 * statement still reads the revocation, the last use and the team's name every time, so nothing
 * remembered can let a revoked token in or show a renamed team's old name, in this process or any
 * other, and no cache needs clearing. Measured alone through `pg`, it is 40–45 µs quicker on the
 * database than the lookup by hash with the team by reference (docs/benchmarks.md, stop 24).
 *
 * @since 0.3.0
 */
import { ApiTokens, TeamTokenAccess } from "@canaryroll/app"
import { Id, type ReleaseSummary } from "@canaryroll/core"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { type TeamTokenRow, toTeamToken } from "./PgApiTokens.ts"
import { unavailable } from "./PgTransactions.ts"

/** The token's columns (`TeamTokenRow`, every one null when it was not found), the team's, the summary. */
type FoundRow = { readonly [K in keyof TeamTokenRow]: TeamTokenRow[K] | null } & {
  readonly found_team_id: string | null
  readonly found_team_slug: string | null
  readonly found_team_name: string | null
  readonly found_team_created_at: Date | null
  /** jsonb, parsed by the driver: written by `PgReadModels`. */
  readonly summary: ReleaseSummary.ReleaseSummary | null
}

/** What the lookup by primary keys reads afresh each time: what can change. */
interface KnownTokenRow {
  readonly last_used_at: Date | null
  readonly team_name: string
  readonly summary: ReleaseSummary.ReleaseSummary | null
}

/** What never changes about a team token and its team: all but the token's last use and revocation, and the team's name. */
interface KnownToken {
  readonly token: Omit<ApiTokens.TeamToken, "lastUsedAt" | "revokedAt">
  readonly teamSlug: string
  readonly teamCreatedAt: number
}

export interface Options {
  /**
   * How many tokens a layer remembers (by hash), the longest unused forgotten first. Only tokens
   * found are remembered, so unknown tokens sent by anyone never fill it. Default 10,000.
   */
  readonly knownTokens?: number
}

export const make = (options: Options = {}): Effect.Effect<
  TeamTokenAccess.TeamTokenAccess["Service"],
  never,
  SqlClient.SqlClient
> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const capacity = Number.isFinite(options.knownTokens) ? Math.max(0, Math.floor(options.knownTokens!)) : 10_000
    // Map keeps insertion order: a hit is moved to the end, the first entry is the least recently used.
    const known = new Map<string, KnownToken>()
    const remember = (hash: string, entry: KnownToken) => {
      known.delete(hash)
      known.set(hash, entry)
      if (known.size > capacity) known.delete(known.keys().next().value!)
    }

    /** The last use, stamped in a statement of its own when due: at most once per token per `lastUsedResolutionMs`. */
    const stampLastUse = (tokenId: string, lastUsedAt: number | null, now: number) =>
      // (In the SELECT, an UPDATE in a WITH cost every request: it halved the statement's rate.)
      ApiTokens.stampDue(lastUsedAt, now)
        ? Effect.map(
          sql`
            UPDATE team_tokens SET last_used_at = ${new Date(now)}
            WHERE id = ${tokenId}
              AND (last_used_at IS NULL OR last_used_at < ${new Date(now - ApiTokens.lastUsedResolutionMs)})
            RETURNING id`,
          (rows) => rows.length > 0 ? now : lastUsedAt
        )
        : Effect.succeed(lastUsedAt)

    /** By the token's hash and the team's reference: for a token not remembered, or not on its own team's path. */
    const lookUp = ({ hash, now, releaseId, teamRef }: TeamTokenAccess.Lookup) =>
      Effect.gen(function*() {
        const [row] = yield* sql<FoundRow>`
          WITH team AS (
            SELECT * FROM teams WHERE id = ${teamRef} OR slug = ${teamRef} ORDER BY (id = ${teamRef}) DESC LIMIT 1
          )
          SELECT found.id, found.team_id, found.name, found.role, found.display, found.created_by, found.created_at,
            found.last_used_at, found.revoked_at,
            team.id AS found_team_id, team.slug AS found_team_slug, team.name AS found_team_name,
            team.created_at AS found_team_created_at, summaries.summary
          FROM (SELECT) AS one
          LEFT JOIN team_tokens AS found ON found.token_hash = ${hash} AND found.revoked_at IS NULL
          LEFT JOIN team ON true
          LEFT JOIN release_summaries AS summaries
            ON summaries.team_id = team.id AND summaries.release_id = ${releaseId}`
        const team = row === undefined || row.found_team_id === null ? Option.none() : Option.some({
          id: row.found_team_id,
          slug: row.found_team_slug!,
          name: row.found_team_name!,
          createdAt: row.found_team_created_at!.getTime()
        })
        if (row === undefined || row.id === null) return { token: Option.none(), team, release: Option.fromNullishOr(row?.summary) }
        // One LEFT JOINed row: the token's NOT NULL columns are all set when its id is.
        const token = toTeamToken(row as TeamTokenRow)
        if (Option.isSome(team) && team.value.id === token.teamId) {
          const { lastUsedAt: _, revokedAt: __, ...lasting } = token
          remember(hash, { token: lasting, teamSlug: team.value.slug, teamCreatedAt: team.value.createdAt })
        }
        const lastUsedAt = yield* stampLastUse(token.id, token.lastUsedAt, now)
        return { token: Option.some({ ...token, lastUsedAt }), team, release: Option.fromNullishOr(row.summary) }
      })

    /**
     * A remembered token on its own team's path, by primary keys: `undefined` when the token was
     * revoked since, or the team no longer answers to `teamRef` (the caller looks up by hash). The
     * hash is checked again: a secret counts only while the row holds its hash.
     */
    const lookUpKnown = (entry: KnownToken, { hash, now, releaseId, teamRef }: TeamTokenAccess.Lookup) =>
      Effect.gen(function*() {
        const [row] = yield* sql<KnownTokenRow>`
          SELECT found.last_used_at, team.name AS team_name, summaries.summary
          FROM team_tokens AS found
          JOIN teams AS team ON team.id = found.team_id AND (team.id = ${teamRef} OR team.slug = ${teamRef})
          LEFT JOIN release_summaries AS summaries
            ON summaries.team_id = found.team_id AND summaries.release_id = ${releaseId}
          WHERE found.id = ${entry.token.id} AND found.token_hash = ${hash} AND found.revoked_at IS NULL`
        if (row === undefined) return undefined
        const lastUsedAt = yield* stampLastUse(entry.token.id, row.last_used_at?.getTime() ?? null, now)
        return {
          token: Option.some({ ...entry.token, lastUsedAt, revokedAt: null }),
          team: Option.some({ id: entry.token.teamId, slug: entry.teamSlug, name: row.team_name, createdAt: entry.teamCreatedAt }),
          release: Option.fromNullishOr(row.summary)
        }
      })

    /**
     * Whether `teamRef` names the token's own team for sure. By slug, only when no team can have
     * `teamRef` as its id (an id wins over a slug in `byRef`): every team id is made by `Id`.
     */
    const namesOwnTeam = (entry: KnownToken, teamRef: string) =>
      teamRef === entry.token.teamId || (teamRef === entry.teamSlug && !Id.isOf("team", teamRef))

    return TeamTokenAccess.TeamTokenAccess.of({
      find: (lookup) =>
        Effect.gen(function*() {
          const entry = known.get(lookup.hash)
          if (entry !== undefined && namesOwnTeam(entry, lookup.teamRef)) {
            const found = yield* lookUpKnown(entry, lookup)
            if (found !== undefined) {
              remember(lookup.hash, entry)
              return found
            }
            known.delete(lookup.hash)
          }
          return yield* lookUp(lookup)
        }).pipe(Effect.mapError(unavailable))
    })
  })

export const layer = (options: Options = {}): Layer.Layer<TeamTokenAccess.TeamTokenAccess, never, SqlClient.SqlClient> =>
  Layer.effect(TeamTokenAccess.TeamTokenAccess, make(options))
