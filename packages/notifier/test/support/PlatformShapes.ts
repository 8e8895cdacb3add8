/**
 * What each platform documents for an incoming webhook's JSON, as checks on a received body:
 * the structure it must have and the limits it must respect. Each returns the problems found
 * (none: the platform would accept it).
 *
 * - Slack (docs.slack.dev, Block Kit): `text` string; `blocks` at most 50; header text
 *   plain_text ≤ 150; section text ≤ 3,000, fields ≤ 10 of ≤ 2,000; context elements ≤ 10.
 * - Discord (discord.com/developers, Execute Webhook / Embed Limits): ≤ 10 embeds; title ≤ 256,
 *   description ≤ 4,096, fields ≤ 25 (name ≤ 256, value ≤ 1,024), footer ≤ 2,048, all text of
 *   all embeds together ≤ 6,000; colour an integer; timestamp ISO 8601.
 * - Google Chat (developers.google.com/workspace/chat, Message and Cards v2): the message ≤
 *   32,000 bytes; `cardsV2[]` of `{ cardId, card }`, a card with `sections[].widgets[]`.
 */
const length = (text: unknown) => (typeof text === "string" ? Array.from(text).length : Number.NaN)
const isString = (value: unknown): value is string => typeof value === "string"

export const slackProblems = (body: any): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (!isString(body.text) || body.text === "") problems.push("text: a non-empty fallback is required")
  if (!Array.isArray(body.blocks)) return [...problems, "blocks: must be an array"]
  if (body.blocks.length > 50) problems.push(`blocks: ${body.blocks.length} > 50`)
  body.blocks.forEach((block: any, i: number) => {
    switch (block.type) {
      case "header":
        if (block.text?.type !== "plain_text") problems.push(`blocks[${i}].text: header text must be plain_text`)
        if (!(length(block.text?.text) <= 150)) problems.push(`blocks[${i}].text: header over 150`)
        break
      case "section":
        if (block.text === undefined && block.fields === undefined) problems.push(`blocks[${i}]: text or fields required`)
        if (block.text !== undefined && !(length(block.text.text) <= 3000)) problems.push(`blocks[${i}].text over 3000`)
        if (block.fields !== undefined) {
          if (block.fields.length > 10) problems.push(`blocks[${i}].fields: over 10`)
          block.fields.forEach((field: any, j: number) => {
            if (!["mrkdwn", "plain_text"].includes(field.type)) problems.push(`blocks[${i}].fields[${j}].type`)
            if (!(length(field.text) <= 2000)) problems.push(`blocks[${i}].fields[${j}] over 2000`)
          })
        }
        break
      case "context":
        if (!Array.isArray(block.elements) || block.elements.length > 10) problems.push(`blocks[${i}].elements: 1 to 10`)
        break
      case "divider":
        break
      default:
        problems.push(`blocks[${i}]: unexpected type ${block.type}`)
    }
  })
  return problems
}

export const discordProblems = (body: any): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (!Array.isArray(body.embeds) || body.embeds.length < 1 || body.embeds.length > 10) return ["embeds: 1 to 10"]
  let total = 0
  body.embeds.forEach((embed: any, i: number) => {
    if (!(length(embed.title) <= 256)) problems.push(`embeds[${i}].title over 256`)
    if (!(length(embed.description) <= 4096)) problems.push(`embeds[${i}].description over 4096`)
    if (!Number.isInteger(embed.color) || embed.color < 0 || embed.color > 0xffffff) problems.push(`embeds[${i}].color`)
    if (Number.isNaN(Date.parse(embed.timestamp))) problems.push(`embeds[${i}].timestamp`)
    if (!Array.isArray(embed.fields) || embed.fields.length > 25) problems.push(`embeds[${i}].fields: at most 25`)
    for (const field of embed.fields ?? []) {
      if (!(length(field.name) >= 1 && length(field.name) <= 256)) problems.push(`embeds[${i}] field name 1 to 256`)
      if (!(length(field.value) >= 1 && length(field.value) <= 1024)) problems.push(`embeds[${i}] field value 1 to 1024`)
      total += length(field.name) + length(field.value)
    }
    if (!(length(embed.footer?.text) <= 2048)) problems.push(`embeds[${i}].footer over 2048`)
    total += length(embed.title) + length(embed.description) + length(embed.footer?.text ?? "")
  })
  if (total > 6000) problems.push(`embeds: ${total} characters > 6000`)
  return problems
}

export const googleChatProblems = (raw: string): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const bytes = Buffer.byteLength(raw, "utf8")
  if (bytes > 32_000) problems.push(`message: ${bytes} bytes > 32000`)
  const body = JSON.parse(raw)
  if (!Array.isArray(body.cardsV2) || body.cardsV2.length < 1) return [...problems, "cardsV2: at least one card"]
  body.cardsV2.forEach((entry: any, i: number) => {
    if (!isString(entry.cardId) || entry.cardId === "") problems.push(`cardsV2[${i}].cardId`)
    if (!isString(entry.card?.header?.title)) problems.push(`cardsV2[${i}].card.header.title`)
    if (!Array.isArray(entry.card?.sections) || entry.card.sections.length < 1) problems.push(`cardsV2[${i}].card.sections`)
    for (const section of entry.card?.sections ?? []) {
      for (const widget of section.widgets ?? []) {
        const kinds = Object.keys(widget)
        if (kinds.length !== 1 || !["textParagraph", "decoratedText", "buttonList"].includes(kinds[0]!)) {
          problems.push(`cardsV2[${i}]: unexpected widget ${kinds.join(",")}`)
        }
      }
    }
  })
  return problems
}
