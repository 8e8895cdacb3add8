/**
 * A secret the server shows once (a token, an invitation link, a webhook's signing secret): shown
 * here with a copy button and a plain warning that it will not be shown again. Closing it drops
 * the secret from the page's memory.
 */
import { useState } from "react"
import { Button } from "react-aria-components"

export const OneTimeSecret = (props: {
  readonly title: string
  readonly secret: string
  readonly note?: string
  readonly onDone: () => void
}) => {
  const [copied, setCopied] = useState<"yes" | "no" | undefined>(undefined)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret)
      setCopied("yes")
    } catch {
      // Clipboard access needs a secure context and permission: the text stays selectable.
      setCopied("no")
    }
  }
  return (
    <section className="card secret" aria-label={props.title} role="region">
      <h3>{props.title}</h3>
      <p>{props.note ?? "Copy it now: it is shown this once, and CanaryRoll keeps only a hash."}</p>
      <code className="secret-value" data-testid="one-time-secret">{props.secret}</code>
      <div className="buttons">
        <Button className="button primary" onPress={copy}>Copy</Button>
        <Button className="button" onPress={props.onDone}>Done, hide it</Button>
        <span role="status" aria-live="polite" className="muted small">
          {copied === "yes" ? "Copied." : copied === "no" ? "Copying was refused by the browser: select the text and copy it." : ""}
        </span>
      </div>
    </section>
  )
}
