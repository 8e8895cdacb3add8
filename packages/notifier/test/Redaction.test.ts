/**
 * Redaction: a URL keeps its scheme and host, never its user info, path, query or fragment;
 * every URL in a text is shown that way (in prose, in JSON, JSON-escaped); a known secret is
 * taken out in each form it may be echoed in; and what has nothing to hide is left as it is.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redaction } from "../src/index.ts"

const slackUrl = "https://hooks.slack.com/services/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6"

describe("Redaction", () => {
  it("shows a URL as its scheme and host", () => {
    assert.strictEqual(Redaction.url(slackUrl), "https://hooks.slack.com/…")
    assert.strictEqual(Redaction.url("http://127.0.0.1:8080/x?token=y"), "http://127.0.0.1:8080/…")
    assert.strictEqual(Redaction.url("https://user:pass@ops.example.com/"), "https://ops.example.com/…")
    assert.strictEqual(Redaction.url("https://ops.example.com/?key=k"), "https://ops.example.com/…")
    assert.strictEqual(Redaction.url("https://ops.example.com#frag"), "https://ops.example.com/…")
    assert.strictEqual(Redaction.url("https://[::1]:8443/hook"), "https://[::1]:8443/…")
    assert.strictEqual(Redaction.url("file:///etc/passwd"), "…")
    assert.strictEqual(Redaction.url("not a url"), "…")
    // Nothing to hide: as it was.
    assert.strictEqual(Redaction.url("https://ops.example.com"), "https://ops.example.com")
    assert.strictEqual(Redaction.url("http://localhost:8787/"), "http://localhost:8787/")
  })

  it("redacts every URL in a text, and only URLs", () => {
    assert.strictEqual(
      Redaction.text(`request to ${slackUrl} failed; retry https://a:b@x.example/y?z=1. Or see http://localhost:8787.`),
      "request to https://hooks.slack.com/… failed; retry https://x.example/…. Or see http://localhost:8787."
    )
    assert.strictEqual(Redaction.text("(see https://x.example/secret-path)"), "(see https://x.example/…)")
    assert.strictEqual(Redaction.text("HTTP 500: upstream down"), "HTTP 500: upstream down")
    assert.strictEqual(Redaction.text("connect ECONNREFUSED 127.0.0.1:1"), "connect ECONNREFUSED 127.0.0.1:1")
    assert.strictEqual(Redaction.text("<a href='https://x.example/p?q=1'>x</a>"), "<a href='https://x.example/…'>x</a>")
    assert.strictEqual(Redaction.text("HTTPS://X.EXAMPLE/Secret"), "https://x.example/…")
  })

  it("redacts URLs inside JSON and keeps the JSON readable", () => {
    const json = JSON.stringify({ error: "bad_hook", url: slackUrl, message: `no hook at "${slackUrl}"` })
    const redacted = Redaction.text(json)
    assert.notInclude(redacted, "xoxSecretTokenValue123456")
    assert.deepStrictEqual(JSON.parse(redacted), {
      error: "bad_hook",
      url: "https://hooks.slack.com/…",
      message: "no hook at \"https://hooks.slack.com/…\""
    })
    const escaped = "{\"url\":\"https:\\/\\/hooks.slack.com\\/services\\/T\\/B\\/xoxSecretTokenValue123456\"}"
    assert.deepStrictEqual(JSON.parse(Redaction.text(escaped)), { url: "https://hooks.slack.com/…" })
  })

  it("takes known secrets out, in the forms they are echoed in", () => {
    const url = "https://bob:pa%24%24word-long@ops.example.com/hooks/abcdefghijklmnop?key=k3y-v4lue-long&x=1#frag-ment"
    const secrets = Redaction.secretsOfUrl(url)
    for (const part of ["/hooks/abcdefghijklmnop", "abcdefghijklmnop", "key=k3y-v4lue-long&x=1", "k3y-v4lue-long", "pa%24%24word-long"]) {
      assert.include(secrets, part)
    }
    for (
      const echoed of [
        "no hook /hooks/abcdefghijklmnop here",
        "unknown key k3y-v4lue-long",
        "bad password pa$$word-long",
        "bad password pa%24%24word-long",
        "query was key=k3y-v4lue-long&x=1",
        "path %2Fhooks%2Fabcdefghijklmnop",
        "json \\/hooks\\/abcdefghijklmnop"
      ]
    ) {
      const redacted = Redaction.text(echoed, secrets)
      for (const secret of ["abcdefghijklmnop", "k3y-v4lue-long", "word-long"]) assert.notInclude(redacted, secret, echoed)
    }
    // Short secrets would mangle the text and protect nothing.
    assert.strictEqual(Redaction.text("a bad request", ["bad"]), "a bad request")
    assert.strictEqual(Redaction.text("the password hunter2-long was refused", ["hunter2-long"]), "the password … was refused")
  })
})
