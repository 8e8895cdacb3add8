/**
 * Runs one of the server's HTML pages the way a browser would, without a browser: reads the page
 * from the server, runs its scripts in order (a `<script src>` fetched from the server, an inline
 * `<script>` as it stands) in one `node:vm` context with a small DOM, and lets them call the API
 * with a session cookie. What they render is left as a tree of elements to inspect: which links
 * the page made (`href`), and what text it shows. Just enough DOM for the pages in
 * src/pages/Pages.ts (`createElement`, `append`, `replaceChildren`, `textContent`, properties).
 */
import { Effect } from "effect"
import * as vm from "node:vm"

export class Element {
  readonly tagName: string
  readonly children: Array<Element> = []
  private text = ""
  className = ""
  href: string | undefined = undefined
  rel = ""
  type = ""
  placeholder = ""
  value = ""
  onclick: (() => unknown) | null = null
  onsubmit: ((event: unknown) => unknown) | null = null
  constructor(tagName: string) {
    this.tagName = tagName
  }
  get textContent(): string {
    return this.text + this.children.map((child) => child.textContent).join("")
  }
  set textContent(value: string) {
    this.text = String(value)
    this.children.length = 0
  }
  append(...nodes: Array<Element | string>) {
    for (const node of nodes) {
      if (typeof node === "string") {
        const text = new Element("#text")
        text.textContent = node
        this.children.push(text)
      } else {
        this.children.push(node)
      }
    }
  }
  replaceChildren(...nodes: Array<Element | string>) {
    this.text = ""
    this.children.length = 0
    this.append(...nodes)
  }
  /** This element and every element under it. */
  all(): Array<Element> {
    return [this, ...this.children.flatMap((child) => child.all())]
  }
}

export interface Rendered {
  readonly main: Element
  /** Every `<a>` the page made, with its `href` as the page set it. */
  readonly links: ReadonlyArray<{ readonly text: string; readonly href: string | undefined }>
  readonly text: string
  /** The scripts that ran: `src` for a file, `inline` for inline code. */
  readonly scripts: ReadonlyArray<string>
}

/** The scripts of an HTML page, in document order: a file's path, or inline code. */
const scriptsOf = (html: string) =>
  Array.from(html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)).map((match) => {
    const src = /\bsrc\s*=\s*"([^"]*)"/i.exec(match[1] ?? "")?.[1]
    return src === undefined ? { _tag: "Inline" as const, code: match[2] ?? "" } : { _tag: "File" as const, src }
  })

/**
 * Opens `path` on the server at `baseUrl` as a person signed in with `cookie` would, and returns
 * what the page rendered once its requests are answered.
 */
export const render = (baseUrl: string, path: string, cookie: string): Effect.Effect<Rendered> =>
  Effect.promise(async () => {
    const page = await fetch(`${baseUrl}${path}`)
    const html = await page.text()
    const main = new Element("main")
    let inFlight = 0
    const location = new URL(path, "http://page.test")
    const context = vm.createContext({
      document: {
        getElementById: (id: string) => (id === "main" ? main : null),
        createElement: (tag: string) => new Element(tag)
      },
      location: { pathname: location.pathname, search: location.search },
      fetch: async (input: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
        inFlight++
        try {
          return await fetch(new URL(input, baseUrl), { ...init, headers: { ...init.headers, cookie } })
        } finally {
          inFlight--
        }
      },
      URL,
      URLSearchParams,
      console,
      Date,
      JSON,
      alert: () => {},
      setInterval: () => 0,
      setTimeout
    })
    const ran: Array<string> = []
    for (const script of scriptsOf(html)) {
      if (script._tag === "File") {
        const file = await fetch(new URL(script.src, baseUrl))
        if (file.status !== 200) throw new Error(`${script.src}: ${file.status}`)
        vm.runInContext(await file.text(), context, { filename: script.src })
        ran.push(script.src)
      } else {
        vm.runInContext(script.code, context, { filename: "inline" })
        ran.push("inline")
      }
    }
    // The pages render after their API calls: wait until none is in flight for a few turns.
    for (let quiet = 0, round = 0; quiet < 5 && round < 500; round++) {
      await new Promise((resolve) => setTimeout(resolve, 2))
      quiet = inFlight === 0 ? quiet + 1 : 0
    }
    const links = main.all().filter((element) => element.tagName === "a").map((a) => ({ text: a.textContent, href: a.href }))
    return { main, links, text: main.textContent, scripts: ran }
  })
