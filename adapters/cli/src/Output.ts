/**
 * How the CLI prints: results on stdout (the server's JSON with `--json`, else text for people),
 * and progress and errors on stderr, so `canaryroll release wait --json > result.json` keeps a
 * clean file while a person still sees what is happening.
 *
 * @since 0.1.0
 */
import { Console, Effect } from "effect"

export const json = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

export const lines = (...text: ReadonlyArray<string>) => Console.log(text.join("\n"))

/** A progress note for people: stderr. */
export const note = (text: string) => Effect.sync(() => process.stderr.write(`${text}\n`))

/** Columns padded to their widest cell; an empty list says so. */
export const table = (
  headings: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  empty: string
) => {
  if (rows.length === 0) return Console.log(empty)
  const widths = headings.map((heading, column) => Math.max(heading.length, ...rows.map((row) => (row[column] ?? "").length)))
  const render = (row: ReadonlyArray<string>) =>
    row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]!)).join("  ").trimEnd()
  return Console.log([render(headings), ...rows.map(render)].join("\n"))
}

/** `2026-11-26T10:00:00.000Z` → `2026-11-26 10:00:00Z`. */
export const time = (iso: string | null | undefined) =>
  iso === null || iso === undefined ? "-" : iso.replace("T", " ").replace(/\.\d+Z$/, "Z")
