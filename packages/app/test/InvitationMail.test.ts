/**
 * The invitation email's content: it names the team, the inviter, the role and the expiry (in
 * UTC, whatever the reader's zone), carries the accept link in both parts, escapes every piece of
 * people's input in the HTML, and keeps the subject and recipient on one header line.
 */
import { assert, describe, it } from "@effect/vitest"
import * as InvitationMail from "../src/mail/InvitationMail.ts"

const invitation: InvitationMail.Invitation = {
  to: "bob@example.com",
  teamName: "Payments",
  inviter: "Ann",
  role: "deploy",
  expiresAt: Date.parse("2026-12-03T10:00:00.000Z"),
  acceptUrl: "https://canaryroll.example.com/invitations/accept?token=cri_abc&x=1"
}

describe("the invitation email", () => {
  it("names the team, the inviter, the role and the expiry, with the link in both parts", () => {
    const message = InvitationMail.compose(invitation)
    assert.strictEqual(message.to, "bob@example.com")
    assert.strictEqual(message.subject, "You are invited to Payments on CanaryRoll")
    assert.include(message.text, "Ann invited you to the team Payments on CanaryRoll.")
    assert.include(message.text, "Your role: deploy: you can create, start, advance, pause and roll back releases.")
    assert.include(message.text, "until 3 December 2026 at 10:00 UTC")
    assert.include(message.text, `\n${invitation.acceptUrl}\n`)
    assert.include(message.html, `<a href="https://canaryroll.example.com/invitations/accept?token=cri_abc&amp;x=1">`)
    assert.include(message.html, "<strong>Payments</strong>")
  })

  it("escapes people's input in the HTML and keeps headers on one line", () => {
    const message = InvitationMail.compose({
      ...invitation,
      teamName: "<img src=x onerror=alert(1)>\r\nBcc: eve@example.com",
      inviter: "token \"ci\" <b>"
    })
    assert.notInclude(message.html, "<img")
    assert.notInclude(message.html, "<b>")
    assert.include(message.html, "&lt;img src=x onerror=alert(1)&gt; Bcc: eve@example.com")
    assert.include(message.html, "token &quot;ci&quot; &lt;b&gt;")
    assert.notMatch(message.subject, /[\r\n]/)
    assert.strictEqual(message.subject, "You are invited to <img src=x onerror=alert(1)> Bcc: eve@example.com on CanaryRoll")
  })
})
