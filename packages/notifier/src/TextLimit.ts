/**
 * Platform size limits, kept by cutting text rather than by having a message refused: a message
 * that arrives shortened is better than one that never arrives. Cuts never split a character
 * (a surrogate pair, an emoji) and end with an ellipsis so that readers see something is missing.
 *
 * @since 0.1.0
 */

const ellipsis = "…"

/** `text` cut to at most `max` characters (Unicode code points), ending in `…` when cut. */
export const truncate = (text: string, max: number): string => {
  if (max <= 0) return ""
  // Cheap test first: the UTF-16 length is never below the code point count.
  if (text.length <= max) return text
  const points = Array.from(text)
  if (points.length <= max) return text
  return points.slice(0, max - 1).join("") + ellipsis
}

/** How many characters (code points) `text` counts for a platform that counts characters. */
export const length = (text: string): number => Array.from(text).length

/** The UTF-8 size of `text`, for limits stated in bytes. */
export const byteLength = (text: string): number => new TextEncoder().encode(text).length

/**
 * `raw`, cut so that once escaped (`escape`) it fits in `max` characters. Cutting after
 * escaping could split an escape (`&am…`), so the raw text is cut until its escaped form fits.
 */
export const truncateEscaped = (raw: string, max: number, escape: (text: string) => string): string => {
  const whole = escape(raw)
  if (length(whole) <= max) return whole
  // The longest cut whose escaped form fits: escaping only lengthens, and a longer cut never
  // escapes shorter, so a binary search over the cut's length finds it.
  let low = 0
  let high = Math.min(length(raw), max)
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (length(escape(truncate(raw, middle))) <= max) low = middle
    else high = middle - 1
  }
  return escape(truncate(raw, low))
}
