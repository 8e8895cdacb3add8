/**
 * What every browser test does with a page: open a person's own browser context, sign in, check
 * accessibility with axe, save a screenshot, and collect what the console said (a refusal by
 * the Content-Security-Policy is a failure: the dashboard must need nothing inline).
 */
import AxeBuilder from "@axe-core/playwright"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Browser, Page } from "playwright-core"

/** Screenshots of each run (ignored by git; the best are copied to docs/images/dashboard). */
export const screenshotDirectory = fileURLToPath(new URL("../../.screenshots", import.meta.url))

export interface PersonPage {
  readonly page: Page
  /** Console errors that are the CSP refusing something. */
  readonly cspViolations: () => ReadonlyArray<string>
  readonly close: () => Promise<void>
}

export const open = async (browser: Browser, baseUrl: string): Promise<PersonPage> => {
  // A fixed locale: the test machine's may be one browsers reject (`en-US@posix`).
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 }, locale: "en-US" })
  const page = await context.newPage()
  const violations: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) violations.push(message.text())
  })
  return { page, cspViolations: () => violations, close: () => context.close() }
}

export const signIn = async (page: Page, email: string, password: string) => {
  await page.getByLabel("Email").fill(email)
  await page.getByLabel("Password").fill(password)
  await page.getByRole("button", { name: "Sign in" }).click()
}

/** axe's violations on the page as it is now, as readable lines (empty when none). */
export const accessibilityViolations = async (page: Page): Promise<ReadonlyArray<string>> => {
  const results = await new AxeBuilder({ page }).analyze()
  return results.violations.map((violation) =>
    `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes.map((node) => node.target.join(" ")).slice(0, 3).join(", ")}`
  )
}

export const screenshot = async (page: Page, name: string) => {
  fs.mkdirSync(screenshotDirectory, { recursive: true })
  await page.screenshot({ path: path.join(screenshotDirectory, `${name}.png`), fullPage: true })
}
