/**
 * PgSettingsAudit: recording a change to a team's settings in the audit log, with the `SqlClient`
 * in context (`record`), for code that runs in a `sql.withTransaction` of its own. The change
 * types and the entry belong to the `AuditLog` port of `@canaryroll/app`, and the row to
 * `PgAuditRow`: code that has the port in context calls `AuditLog.record` inside
 * `Transactions.atomically` instead.
 *
 * @since 0.1.0
 */
import { AuditLog } from "@canaryroll/app"
import * as PgAuditLog from "./PgAuditLog.ts"

export const changeTypes = AuditLog.changeTypes

export type ChangeType = AuditLog.ChangeType

export const isChangeType = AuditLog.isChangeType

export type Change = AuditLog.SettingsChange

/** Records a change; run it in the transaction that makes the change. */
export const record = PgAuditLog.record
