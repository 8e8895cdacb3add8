/**
 * `CANARYROLL_SMTP_URL` and `CANARYROLL_MAIL_FROM` as the server reads them: the scheme chooses
 * TLS, STARTTLS is required unless `security=none` says otherwise, ports default by scheme,
 * percent-encoded credentials are decoded and the password held redacted; anything wrong is
 * named by its variable, and the URL (which holds the password) is never repeated.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redacted, Result } from "effect"
import * as OutgoingMail from "../../src/mail/OutgoingMail.ts"

const from = "CanaryRoll <canaryroll@example.com>"

const parsed = (url: string, sender: string | undefined) => OutgoingMail.parse(Redacted.make(url), sender)

const settings = (url: string) => {
  const result = parsed(url, from)
  if (Result.isFailure(result)) return assert.fail(result.failure)
  const { password, ...rest } = result.success
  return { ...rest, password: password === null ? null : Redacted.value(password) }
}

const refusal = (url: string, sender: string | undefined) => {
  const result = parsed(url, sender)
  if (Result.isSuccess(result)) return assert.fail(`${url} was taken`)
  return result.failure
}

describe("the server's outgoing mail setting", () => {
  it("smtps is TLS from the first byte, smtp requires STARTTLS, security=none is plain; ports default by scheme", () => {
    assert.deepStrictEqual(settings("smtps://bot:p%40ss%3Aword@mail.example.com"), {
      host: "mail.example.com",
      port: 465,
      security: "tls",
      username: "bot",
      password: "p@ss:word",
      from
    })
    assert.deepStrictEqual(settings("smtp://bot:pw@mail.example.com"), {
      host: "mail.example.com",
      port: 587,
      security: "starttls",
      username: "bot",
      password: "pw",
      from
    })
    assert.deepStrictEqual(settings("smtp://127.0.0.1:2525?security=none"), {
      host: "127.0.0.1",
      port: 2525,
      security: "none",
      username: null,
      password: null,
      from
    })
    assert.strictEqual(settings("smtp://[::1]:25?security=starttls").host, "::1")
  })

  it("refuses what does not work, naming the variable and never repeating the password", () => {
    const secret = "hunter2-secret"
    const cases: ReadonlyArray<readonly [string, string | undefined, string]> = [
      [`mail.example.com:${secret}`, from, "CANARYROLL_SMTP_URL: the scheme must be smtp: or smtps:"],
      [`not a url ${secret}`, from, "CANARYROLL_SMTP_URL: not a URL"],
      [`https://u:${secret}@mail.example.com`, from, "CANARYROLL_SMTP_URL: the scheme must be smtp: or smtps:"],
      [`smtp://u:${secret}@mail.example.com?security=maybe`, from, "CANARYROLL_SMTP_URL: security must be one of tls, starttls, none"],
      [`smtps://u:${secret}@mail.example.com?security=none`, from, "CANARYROLL_SMTP_URL: smtps: is TLS from the first byte"],
      [`smtp://u:${secret}@mail.example.com`, undefined, "CANARYROLL_MAIL_FROM: required with CANARYROLL_SMTP_URL"],
      [`smtp://u:${secret}@mail.example.com`, "nobody", "CANARYROLL_MAIL_FROM: expected an address"],
      [`smtp://u:${secret}@mail.example.com`, "a@example.com\r\nBcc: b@example.com", "CANARYROLL_MAIL_FROM: expected an address"],
      [`smtp://u:%E0%A4%A@mail.example.com`, from, "CANARYROLL_SMTP_URL: the user name or password is not valid percent-encoding"]
    ]
    for (const [url, sender, expected] of cases) {
      const message = refusal(url, sender)
      assert.include(message, expected, url)
      assert.notInclude(message, secret, url)
    }
  })
})
