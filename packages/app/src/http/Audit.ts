/**
 * Handler of the `audit` group: the team's audit log (release events and settings changes),
 * newest first, keyset-paginated, filtered by actor, deployment, type and time.
 *
 * @since 0.1.0
 */
import { AuditLog } from "../index.ts"
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentTeam } from "@canaryroll/api/Access"
import { Api } from "@canaryroll/api/Api"
import { invalidField } from "@canaryroll/api/ApiError"
import type * as S from "@canaryroll/api/Schemas"
import * as Storage from "./Storage.ts"

type AuditEntryView = typeof S.AuditEntry.Type

/** An entry as the API shows it: the event's facts without its tag, actor and time (shown beside). */
export const auditEntryView = (entry: AuditLog.Entry): AuditEntryView => {
  const { _tag, actor: _actor, at: _at, ...facts } = entry.details as Record<string, unknown>
  const actor = entry.actor
  return {
    id: entry.id,
    type: entry.type,
    at: new Date(entry.at).toISOString(),
    actor: actor._tag === "System"
      ? { kind: "system", id: null, name: null }
      : { kind: actor._tag === "User" ? "user" : "token", id: actor.id, name: actor.name },
    deploymentId: entry.releaseId,
    workerId: entry.workerId,
    stepIndex: entry.stepIndex,
    percentage: entry.percentage,
    message: entry.sentence,
    details: facts
  }
}

export const layer = HttpApiBuilder.group(Api, "audit", (handlers) =>
  Effect.gen(function*() {
    const log = yield* AuditLog.AuditLog
    return handlers.handle("auditLog", ({ query }) =>
      Effect.gen(function*() {
        const { team } = yield* CurrentTeam
        const page = yield* log.page({
          teamId: team.id,
          releaseId: query.deploymentId,
          // Parsed by the API's query schemas (Schemas.Actor, CommaSeparated, Time).
          actor: query.actor,
          // Unknown types are refused by the port, naming the field.
          types: query.type as AuditLog.Query["types"],
          from: query.from,
          to: query.to,
          limit: query.limit,
          cursor: query.cursor
        }).pipe(
          Effect.catchTag("InvalidQuery", (error) => Effect.fail(invalidField(error.field === "types" ? "type" : error.field, error.message))),
          Storage.unavailable
        )
        return { entries: page.entries.map(auditEntryView), nextCursor: page.nextCursor }
      }))
  }))
