/**
 * `CANARYROLL_LOG_FORMAT=json`: one JSON object per line on standard output, for log collectors
 * (Loki, CloudWatch, Datadog, journald with a JSON parser):
 *
 * ```json
 * {"time":"2026-12-06T07:00:00.000Z","level":"info","message":"…","requestId":"…","team":"demo","releaseId":"rel_…"}
 * ```
 *
 * `time`, `level` (`debug`, `info`, `warning`, `error`, `fatal`) and `message` are always there;
 * the log annotations follow as fields of their own (`requestId`, `team` as the path named it,
 * `releaseId`), then `details` (the further arguments of a log call) and `cause` (a failure's
 * trace). The message is written as the caller wrote it, as in the text format (callers redact
 * what they log, and the secret-marker test checks every line); `details` and `cause`, which
 * carry errors from elsewhere, also go through the notifier's `Redaction.text`: a URL in them
 * keeps only its scheme and host.
 *
 * @since 0.1.0
 */
import { Redaction } from "@canaryroll/notifier"
import { Cause, Logger, type LogLevel, References } from "effect"

export type Format = "text" | "json"

const levelNames: Record<LogLevel.LogLevel, string> = {
  All: "all",
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warn: "warning",
  Error: "error",
  Fatal: "fatal",
  None: "none"
}

/** Fields a log annotation may not take over: the line's own. */
const reserved = new Set(["time", "level", "message", "details", "cause"])

const plain = (value: unknown): unknown => {
  if (typeof value === "string") return Redaction.text(value)
  if (value instanceof Error) return Redaction.text(value.message)
  if (value === null || typeof value === "number" || typeof value === "boolean") return value
  if (value === undefined) return null
  try {
    return JSON.parse(Redaction.text(JSON.stringify(value) ?? "null"))
  } catch {
    return Redaction.text(String(value))
  }
}

/** One log call as one JSON line (no newline inside: JSON escapes them). */
export const formatLine = (options: {
  readonly date: Date
  readonly logLevel: LogLevel.LogLevel
  readonly message: unknown
  readonly annotations: Readonly<Record<string, unknown>>
  readonly cause: Cause.Cause<unknown>
}): string => {
  const parts = Array.isArray(options.message) ? options.message : [options.message]
  const line: Record<string, unknown> = {
    time: options.date.toISOString(),
    level: levelNames[options.logLevel],
    message: parts.length === 0 ? "" : typeof parts[0] === "string" ? parts[0] : plain(parts[0])
  }
  for (const [key, value] of Object.entries(options.annotations)) {
    if (!reserved.has(key)) line[key] = plain(value)
  }
  if (parts.length > 1) line["details"] = parts.slice(1).map(plain)
  if (options.cause.reasons.length > 0) line["cause"] = Redaction.text(Cause.pretty(options.cause))
  return JSON.stringify(line)
}

/** The JSON logger, writing each line to standard output in one write. */
export const logger = Logger.make<unknown, void>(({ cause, date, fiber, logLevel, message }) => {
  const annotations = fiber.getRef(References.CurrentLogAnnotations)
  process.stdout.write(`${formatLine({ date, logLevel, message, annotations, cause })}\n`)
})
