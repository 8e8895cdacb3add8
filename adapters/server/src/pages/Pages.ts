/**
 * The two pages links point people at: a release's page (`/teams/{team}/deployments/{id}`, the
 * link the GitHub Action prints and notifications carry) and the invitation page
 * (`/invitations/accept?token=…`). Each is one static HTML document whose script calls the API
 * with the session cookie (same origin), so the pages hold no data and need no server-side
 * templating: everything shown goes through `textContent`, never HTML.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"

const securityHeaders = {
  "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

const page = (title: string, script: string) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · CanaryRoll</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; } .muted { color: #666; } .status { font-weight: 600; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; }
button { margin-right: .5rem; } form { margin: 1rem 0; } input { margin: .25rem 0; display: block; }
.error { color: #b00020; }
</style>
</head>
<body>
<main id="main"><p class="muted">Loading…</p></main>
<script>
"use strict";
const main = document.getElementById("main");
const el = (tag, text, className) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = text; if (className) node.className = className; return node; };
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
${script}
</script>
</body>
</html>
`

const releaseScript = `
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
  if (d.ticketUrl) { const link = el("a", d.ticketUrl); link.href = d.ticketUrl; main.append(link); }
  const actions = el("p");
  for (const verb of ["advance", "pause", "resume", "rollback", "cancel"]) {
    const button = el("button", verb);
    button.onclick = async () => { const result = await api("POST", base + "/" + verb); if (result.status !== 200) alert(result.json?.message ?? verb + " failed"); render(); };
    actions.append(button);
  }
  if (!["completed", "rolled_back", "failed", "cancelled"].includes(d.status)) main.append(actions);
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

const invitationScript = `
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

const html = (title: string, script: string) =>
  HttpServerResponse.text(page(title, script), { contentType: "text/html; charset=utf-8", headers: securityHeaders })

export const layer = Layer.mergeAll(
  HttpRouter.add("GET", "/teams/:team/deployments/:id", Effect.succeed(html("Release", releaseScript))),
  HttpRouter.add("GET", "/invitations/accept", Effect.succeed(html("Invitation", invitationScript)))
)
