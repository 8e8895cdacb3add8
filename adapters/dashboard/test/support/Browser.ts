/**
 * A real headless Chromium with no download step: `@sparticuz/chromium` ships the browser inside
 * its npm package (`executablePath()` unpacks it once), driven by `playwright-core`. Its own
 * flags (`chromium.args`) include what a container needs (`--no-sandbox`: running as root), less
 * those made for a serverless function that would change what the tests see: one process for
 * everything (a second browser context crashes it) and web security turned off (the same-origin
 * rules and mixed-content blocking are part of what the dashboard relies on).
 */
import chromium from "@sparticuz/chromium"
import { type Browser, chromium as playwright } from "playwright-core"

const unwanted = new Set(["--single-process", "--no-zygote", "--disable-web-security", "--allow-running-insecure-content"])

export const launch = async (): Promise<Browser> =>
  playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((arg) => !unwanted.has(arg)),
    headless: true
  })
