/**
 * The registry of channel kinds: each kind is one module, and nothing else in the product names
 * it. If another module branched on `"slack"` or listed the kinds again, adding a kind would
 * touch that module too; this test reads the source and fails where that happens.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Channel, ChannelKind, ChannelKinds } from "../src/index.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))

const sourceFiles = (directory: string): ReadonlyArray<string> =>
  fs.readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.parentPath.includes("node_modules"))
    .map((entry) => path.join(entry.parentPath, entry.name))

const sources = ["packages", "adapters"].flatMap((group) =>
  fs.readdirSync(path.join(root, group)).map((name) => path.join(root, group, name, "src")).filter(fs.existsSync)
).flatMap(sourceFiles)

/** Each standard kind's module. */
const modules: Record<string, string> = {
  slack: "packages/notifier/src/kinds/Slack.ts",
  discord: "packages/notifier/src/kinds/Discord.ts",
  google_chat: "packages/notifier/src/kinds/GoogleChat.ts",
  email: "packages/notifier/src/kinds/Email.ts",
  webhook: "packages/notifier/src/kinds/Webhook.ts"
}

/** Where a kind's name may stand outside its module: 0007's CHECK, frozen history (0014 drops it). */
const history = new Set(["adapters/postgres/src/Migrations.ts"])

/** How code names a kind: as a kind (`kind: "x"`, `kind === "x"`, `case "x"`), or, for names no other word shares, anywhere. */
const naming = (kind: string): RegExp =>
  kind === "email" || kind === "webhook"
    ? new RegExp(`(kind\\s*(===|!==|:)\\s*|case\\s+|\\[)"${kind}"`)
    : new RegExp(`["'\`]${kind}["'\`]`)

describe("ChannelKinds", () => {
  it("the standard registry holds the five kinds, each from its own module", () => {
    assert.deepStrictEqual(ChannelKinds.standard.kinds.map((kind) => kind.kind), Object.keys(modules))
    assert.deepStrictEqual<ReadonlyArray<string>>(ChannelKinds.Kind.literals, Object.keys(modules))
    assert.strictEqual(ChannelKinds.label("google_chat"), "Google Chat")
  })

  it("no module but a kind's own names it (adding a kind touches its module and the registry)", () => {
    const offenders = Object.entries(modules).flatMap(([kind, module]) =>
      sources
        .map((file) => path.relative(root, file))
        .filter((file) => file !== module && !history.has(file))
        .filter((file) => naming(kind).test(fs.readFileSync(path.join(root, file), "utf8")))
        .map((file) => `${kind} in ${file}`)
    )
    assert.deepStrictEqual(offenders, [])
    // The detector finds what it looks for.
    assert.isTrue(naming("slack").test(`case "slack":`))
    assert.isTrue(naming("webhook").test(`if (current.kind !== "webhook") {`))
    assert.isFalse(naming("email").test(`field: "email"`))
  })

  it("refuses to register two kinds of one name", () => {
    const twin = ChannelKind.incomingWebhook({ kind: "slack", label: "Slack again", render: () => ({}) })
    assert.throws(() => ChannelKinds.make([...ChannelKinds.standard.kinds, twin]), /registered twice/)
  })

  it("derives the input schema from the kinds: each kind's config, chosen by `kind`, field errors named", () => {
    const result = Channel.decodeInput({ name: "x", events: ["release.failed"], config: { kind: "email", host: "smtp.example.com" } })
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      const fields = result.failure.issues.map((issue) => issue.field)
      for (const field of ["config.port", "config.security", "config.from", "config.to"]) assert.include(fields, field)
    }
    const unknownKind = Channel.decodeInput({ name: "x", events: ["release.failed"], config: { kind: "carrier_pigeon" } })
    assert.isTrue(Result.isFailure(unknownKind))
    // The view schema: what a stored channel of each kind is shown as.
    const decodeView = Schema.decodeUnknownSync(ChannelKinds.ConfigView)
    assert.deepStrictEqual(decodeView({ kind: "discord", url: "https://discord.com/…" }), { kind: "discord", url: "https://discord.com/…" })
    assert.throws(() => decodeView({ kind: "webhook", url: "https://x/…", signingSecretSet: false }))
  })
})
