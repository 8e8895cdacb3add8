/**
 * The two pages links point people at: a release's page (`/teams/{team}/deployments/{id}`, the
 * link the GitHub Action prints and notifications carry) and the invitation page
 * (`/invitations/accept?token=…`). Each is one static HTML document whose scripts call the API
 * with the session cookie (same origin), so the pages hold no data and need no server-side
 * templating: everything shown goes through `textContent`, never HTML, and a URL becomes a link
 * only when it is `https:` or `http:` (a stored `javascript:` ticket URL is shown as text).
 *
 * The scripts and the stylesheet are files under `/assets/`: the pages' Content-Security-Policy
 * (`csp`) allows scripts and styles from `'self'` only, no inline code, no `'unsafe-inline'`, so
 * text that slipped into a page could not run. The server's outer middleware gives every HTML
 * answer that has no policy of its own this one (Application.ts).
 *
 * @since 0.1.0
 */
import { PersonCommand } from "@canaryroll/core"
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"

/** The policy of every page: nothing but this server's own files, no inline script or style, no framing. */
export const csp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'"
].join("; ")

/**
 * The headers of every HTML answer. `Referrer-Policy: same-origin`, not `no-referrer`: with
 * `no-referrer` a browser may send `Origin: null` on the pages' own POSTs, which the CSRF check
 * (RequestOrigin.ts) would refuse; `same-origin` still tells other sites nothing.
 */
export const htmlHeaders = (policy: string = csp) => ({
  "content-security-policy": policy,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
})

const stylesheet = `body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; } .muted { color: #666; } .status { font-weight: 600; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; }
button { margin-right: .5rem; } form { margin: 1rem 0; } input { margin: .25rem 0; display: block; }
.error { color: #b00020; } .ticket { display: block; margin: .5rem 0; }
`

/** What both pages share: the DOM helpers, the API call, the sign-in form, the link rule. */
const commonScript = `"use strict";
const main = document.getElementById("main");
const el = (tag, text, className) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = text; if (className) node.className = className; return node; };
/** The URL when it may be a link (absolute https: or http:), else undefined: anything else is shown as text. */
const safeHref = (value) => {
  if (typeof value !== "string") return undefined;
  try { const url = new URL(value); return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined; } catch { return undefined; }
};
const api = async (method, path, body) => {
  const response = await fetch(path, { method, credentials: "same-origin", headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  return { status: response.status, json };
};
const signIn = (then) => {
  main.replaceChildren(el("h1", "Sign in to CanaryRoll"));
  const form = el("form"); const email = el("input"); email.type = "email"; email.placeholder = "email";
  const password = el("input"); password.type = "password"; password.placeholder = "password";
  const submit = el("button", "Sign in"); const problem = el("p", "", "error");
  form.append(email, password, submit, problem); main.append(form);
  form.onsubmit = async (event) => { event.preventDefault();
    const result = await api("POST", "/api/auth/login", { email: email.value, password: password.value });
    if (result.status === 200) then(); else problem.textContent = result.json?.message ?? "could not sign in"; };
};
`

/**
 * The person commands the release page offers (the core's `PersonCommand` table): each one's
 * name (its endpoint), title, the statuses it applies to, and whether it names the step the page
 * shows. JSON in a script: `<` escaped so that no text can close the script element.
 */
const pageCommands = JSON.stringify(
  PersonCommand.names.map((name) => ({
    name,
    title: PersonCommand.commands[name].summary,
    from: PersonCommand.commands[name].from,
    fromStep: PersonCommand.commands[name].takes === "fromStep"
  }))
).replaceAll("<", "\\u003c")

const releaseScript = `"use strict";
const commands = ${pageCommands};
const [, , team, , id] = location.pathname.split("/").map(decodeURIComponent);
const base = "/api/teams/" + encodeURIComponent(team) + "/deployments/" + encodeURIComponent(id);
const render = async () => {
  const release = await api("GET", base);
  if (release.status === 401) return signIn(render);
  if (release.status !== 200) { main.replaceChildren(el("p", release.json?.message ?? "not found", "error")); return; }
  const d = release.json;
  const events = await api("GET", base + "/events");
  main.replaceChildren();
  main.append(el("h1", (d.name ?? "Release") + " · " + d.cfVersionId));
  main.append(el("p", d.status.replace("_", " ") + " · step " + (d.currentStep + 1) + " of " + d.stepsSnapshot.length + " · " + d.currentPercentage + "% of traffic on the new version", "status"));
  if (d.statusReason) main.append(el("p", d.statusReason, "muted"));
  if (d.ticketUrl) {
    const href = safeHref(d.ticketUrl);
    if (href === undefined) main.append(el("span", "Ticket: " + d.ticketUrl, "ticket muted"));
    else { const link = el("a", d.ticketUrl, "ticket"); link.href = href; link.rel = "noopener noreferrer"; main.append(link); }
  }
  const actions = el("p");
  for (const command of commands.filter((command) => command.from.includes(d.status))) {
    const button = el("button", command.name); button.title = command.title;
    button.onclick = async () => { const result = await api("POST", base + "/" + command.name, command.fromStep ? { fromStep: d.currentStep } : undefined); if (result.status !== 200) alert(result.json?.message ?? command.name + " failed"); render(); };
    actions.append(button);
  }
  if (actions.childElementCount > 0) main.append(actions);
  const table = el("table"); const head = el("tr");
  for (const name of ["when", "what"]) head.append(el("th", name));
  table.append(head);
  for (const event of (events.json ?? []).slice().reverse()) {
    const row = el("tr"); row.append(el("td", new Date(event.createdAt).toLocaleString()), el("td", event.details.message ?? event.eventType)); table.append(row);
  }
  main.append(table);
};
render(); setInterval(render, 5000);
`

const invitationScript = `"use strict";
const token = new URLSearchParams(location.search).get("token") ?? "";
const render = async () => {
  const me = await api("GET", "/api/me");
  if (me.status === 401) return signIn(render);
  main.replaceChildren(el("h1", "Join a team on CanaryRoll"), el("p", "Signed in as " + (me.json?.user?.email ?? "?")));
  const accept = el("button", "Accept the invitation"); const outcome = el("p");
  accept.onclick = async () => {
    const result = await api("POST", "/api/invitations/accept", { token });
    outcome.textContent = result.status === 200 ? "You joined " + result.json.name + " as " + result.json.role + "." : (result.json?.message ?? "could not accept");
    outcome.className = result.status === 200 ? "" : "error";
  };
  main.append(accept, outcome);
};
render();
`

/** The pages' files, by path: served as they are, with their content type. */
export const assets: Readonly<Record<`/assets/${string}`, { readonly contentType: string; readonly body: string }>> = {
  "/assets/pages.css": { contentType: "text/css; charset=utf-8", body: stylesheet },
  "/assets/common.js": { contentType: "text/javascript; charset=utf-8", body: commonScript },
  "/assets/release.js": { contentType: "text/javascript; charset=utf-8", body: releaseScript },
  "/assets/invitation.js": { contentType: "text/javascript; charset=utf-8", body: invitationScript }
}

const page = (title: string, script: keyof typeof assets) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · CanaryRoll</title>
<link rel="stylesheet" href="/assets/pages.css">
<script src="/assets/common.js" defer></script>
<script src="${script}" defer></script>
</head>
<body>
<main id="main"><p class="muted">Loading…</p></main>
</body>
</html>
`

const html = (title: string, script: keyof typeof assets) =>
  HttpServerResponse.text(page(title, script), { contentType: "text/html; charset=utf-8", headers: htmlHeaders() })

const asset = ({ body, contentType }: { readonly contentType: string; readonly body: string }) =>
  HttpServerResponse.text(body, {
    contentType,
    headers: { "x-content-type-options": "nosniff", "cache-control": "no-cache" }
  })

/** Every route of the pages: what `layer` serves, and what `405`'s `Allow` is built from. */
export const routes: ReadonlyArray<{ readonly method: "GET"; readonly path: `/${string}`; readonly response: HttpServerResponse.HttpServerResponse }> = [
  { method: "GET", path: "/teams/:team/deployments/:id", response: html("Release", "/assets/release.js") },
  { method: "GET", path: "/invitations/accept", response: html("Invitation", "/assets/invitation.js") },
  ...Object.entries(assets).map(([path, file]) => ({ method: "GET" as const, path: path as `/${string}`, response: asset(file) }))
]

export const layer = HttpRouter.addAll(routes.map((route) => HttpRouter.route(route.method, route.path, Effect.succeed(route.response))))
