/**
 * Redaction: what of a text may be stored, shown or logged when it might hold a secret. Channel
 * URLs are credentials (a Slack, Discord or Google Chat webhook URL's path *is* the secret; a
 * webhook's `user:pass@` and query string often hold one), and errors repeat them: a transport
 * error naming the URL, a receiver answering 500 with the URL it was called on. Everything the
 * notifier records, returns or logs about an attempt goes through `text` first, and the server
 * applies it to the error messages and log lines that may embed a URL.
 *
 * - `url`: a URL as it may be shown: its scheme and host (with port) followed by `/…`, nothing of
 *   its user info, path, query or fragment; unchanged when it has none of those (an origin).
 * - `text`: every URL in a text shown as `url` shows it (JSON-escaped slashes too), and each
 *   given secret, in the forms it may be echoed in (percent-encoded, decoded, JSON-escaped),
 *   replaced by `…`.
 * - `secretsOfUrl`: the parts of a URL to scrub wherever it may be echoed in pieces: the whole
 *   URL, its path, query, user info, and its long path segments and query values.
 *
 * @since 0.1.0
 */

/** What stands in for what was taken out. */
export const mark = "…"

/** A URL as it may be shown: scheme and host followed by `/…`; an origin as it is; not a URL: `…`. */
export const url = (text: string): string => {
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return mark
  }
  const bare = parsed.username === "" && parsed.password === "" && (parsed.pathname === "/" || parsed.pathname === "") &&
    parsed.search === "" && parsed.hash === "" && !text.includes("?") && !text.includes("#")
  if (bare && parsed.host !== "") return text
  return parsed.host === "" ? mark : `${parsed.protocol}//${parsed.host}/${mark}`
}

// A scheme, `://` (or `:\/\/` as JSON may escape it), then anything up to a space or a quote.
const urlPattern = /[a-z][a-z0-9+.-]{0,31}:(?:\\?\/){2}[^\s"'<>`]*/gi

// Punctuation that ends a sentence, not a URL ("see https://x/y." keeps its full stop), and the
// backslash of a JSON-escaped quote right after a URL (`"got \"https://x/y\""` stays JSON).
const trailing = /[.,;:!?)\]}\\]+$/

const redactUrls = (input: string): string =>
  input.replace(urlPattern, (match) => {
    const tail = trailing.exec(match)?.[0] ?? ""
    const candidate = match.slice(0, match.length - tail.length)
    return url(candidate.replaceAll("\\/", "/")) + tail
  })

const forms = (secret: string): ReadonlyArray<string> => {
  const found = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), secret.replaceAll("/", "\\/")])
  try {
    found.add(decodeURIComponent(secret))
  } catch {
    // Not percent-encoded: the other forms are enough.
  }
  try {
    found.add(decodeURIComponent(secret.replaceAll("+", " ")))
  } catch {
    // As above.
  }
  return [...found]
}

/**
 * `input` with every URL in it redacted (see `url`) and every one of `secrets` replaced by `…`,
 * in each form it may be echoed in. Secrets shorter than 4 characters are left alone: replacing
 * them would mangle the text and protect nothing.
 */
export const text = (input: string, secrets: ReadonlyArray<string> = []): string => {
  const scrub = secrets
    .filter((secret) => secret.length >= 4)
    .flatMap(forms)
    .filter((form) => form.length >= 4)
    .sort((a, b) => b.length - a.length)
  let output = redactUrls(input)
  for (const secret of scrub) output = output.replaceAll(secret, mark)
  return output
}

/** How long a path segment or query value must be to be scrubbed on its own (shorter ones are words like `services`). */
const minimumPartLength = 12

/**
 * The parts of `input` (a URL) that may be echoed on their own, to give `text` as secrets: the
 * URL (as given and as parsed), its path with the query, its path, its query, its fragment, its
 * user info, and each path segment and query value of at least 12 characters.
 */
export const secretsOfUrl = (input: string): ReadonlyArray<string> => {
  let parsed: URL
  try {
    parsed = new URL(input)
  } catch {
    return [input]
  }
  const parts = [input, parsed.href, `${parsed.pathname}${parsed.search}`, parsed.search.slice(1), parsed.hash.slice(1)]
  if (parsed.pathname.length > 1) parts.push(parsed.pathname)
  if (parsed.username !== "" || parsed.password !== "") {
    parts.push(parsed.username, parsed.password, `${parsed.username}:${parsed.password}`)
  }
  for (const segment of parsed.pathname.split("/")) if (segment.length >= minimumPartLength) parts.push(segment)
  for (const [name, value] of parsed.searchParams) {
    if (value.length >= minimumPartLength / 2) parts.push(value)
    if (name.length >= minimumPartLength) parts.push(name)
  }
  return parts.filter((part) => part.length > 0)
}
