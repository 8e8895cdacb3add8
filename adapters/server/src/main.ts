/**
 * `pnpm start`: the reference server. Embedded PostgreSQL unless `DATABASE_URL` is set, the HTTP
 * API, and the scheduler loop that steps releases. With no real Cloudflare credentials saved (or
 * `CANARYROLL_SANDBOX=true`), it runs the sandbox: the Cloudflare simulator in-process and a demo
 * team, whose details it writes to `.canaryroll/sandbox.json` (mode 0600) and prints, less the
 * admin password and the team token.
 *
 * Every setting comes from the environment; docs/operations.md lists them. The program is exported
 * (`main`) for `canaryroll serve`; it runs by itself only when this file is the entry point.
 *
 * @since 0.1.0
 */
import { CloudflareAccounts } from "@canaryroll/app"
import * as Dashboard from "@canaryroll/dashboard"
import { Credentials } from "@canaryroll/cloudflare"
import * as Postgres from "@canaryroll/postgres"
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Config, Console, Context, Effect, Exit, Layer, Logger, Option, Redacted, References, Runtime, SubscriptionRef } from "effect"
import { HttpServer } from "effect/http"
import { SqlClient } from "effect/sql"
import * as net from "node:net"
import * as path from "node:path"
import * as OutgoingMail from "./mail/OutgoingMail.ts"
import * as JsonLogs from "./observability/JsonLogs.ts"
import * as Packaging from "./Packaging.ts"
import * as Sandbox from "./Sandbox.ts"
import * as ClientAddress from "./security/ClientAddress.ts"
import * as Server from "./Server.ts"
import * as ServerConfig from "./ServerConfig.ts"

const logLevels = { debug: "Debug", info: "Info", warning: "Warn", warn: "Warn", error: "Error" } as const

const Settings = Config.all({
  port: Config.Int("PORT").pipe(Config.withDefault(8787)),
  host: Config.String("HOST").pipe(Config.withDefault("127.0.0.1")),
  publicUrl: Config.option(Config.String("CANARYROLL_PUBLIC_URL")),
  dataDirectory: Config.String("CANARYROLL_DATA_DIR").pipe(Config.withDefault(".canaryroll")),
  cloudflareBaseUrl: Config.String("CLOUDFLARE_API_BASE_URL").pipe(Config.withDefault(Credentials.defaultBaseUrl)),
  sandbox: Config.Literals(["auto", "true", "false"], "CANARYROLL_SANDBOX").pipe(Config.withDefault("auto" as const)),
  logLevel: Config.Literals(Object.keys(logLevels) as Array<keyof typeof logLevels>, "CANARYROLL_LOG_LEVEL").pipe(
    Config.withDefault("info" as const)
  ),
  budgetShare: Config.Number("CANARYROLL_BUDGET_SHARE").pipe(Config.withDefault(0.5)),
  scheduler: Config.Boolean("CANARYROLL_SCHEDULER").pipe(Config.withDefault(true)),
  allowPrivateWebhooks: Config.Boolean("CANARYROLL_ALLOW_PRIVATE_WEBHOOKS").pipe(
    Config.option,
    Config.map(Option.getOrUndefined)
  ),
  trustedProxies: Config.String("CANARYROLL_TRUSTED_PROXIES").pipe(Config.withDefault("")),
  liveHeartbeatMs: Config.Int("CANARYROLL_LIVE_HEARTBEAT_MS").pipe(Config.withDefault(15_000)),
  signup: Config.Literals(["open", "invite-only"], "CANARYROLL_SIGNUP").pipe(Config.withDefault("open" as const)),
  dashboard: Config.Boolean("CANARYROLL_DASHBOARD").pipe(Config.withDefault(true)),
  // The server's outgoing mail (invitations): the URL holds the SMTP password, read as a secret.
  smtpUrl: Config.option(Config.Redacted("CANARYROLL_SMTP_URL")),
  mailFrom: Config.option(Config.String("CANARYROLL_MAIL_FROM"))
})

/**
 * How the process reports on itself: the log format, and where `/metrics` is served. The
 * metrics' own port (`CANARYROLL_METRICS_PORT`) keeps them off the API's port, which is usually
 * the internet's; `off` serves them nowhere.
 */
const Observability = Config.all({
  logFormat: Config.Literals(["text", "json"], "CANARYROLL_LOG_FORMAT").pipe(Config.withDefault("text" as const)),
  metricsPort: Config.String("CANARYROLL_METRICS_PORT").pipe(Config.withDefault("api")),
  metricsHost: Config.String("CANARYROLL_METRICS_HOST").pipe(Config.withDefault("127.0.0.1"))
})

type MetricsPlace = { readonly _tag: "ApiPort" } | { readonly _tag: "Off" } | { readonly _tag: "OwnPort"; readonly port: number }

/** `CANARYROLL_METRICS_PORT`: `api` (default) or empty, `off`, or a port (0: any free one). */
const metricsPlace = (value: string): Effect.Effect<MetricsPlace, Error> => {
  const trimmed = value.trim().toLowerCase()
  if (trimmed === "" || trimmed === "api") return Effect.succeed({ _tag: "ApiPort" })
  if (trimmed === "off") return Effect.succeed({ _tag: "Off" })
  const port = Number(trimmed)
  return /^\d+$/.test(trimmed) && port <= 65535
    ? Effect.succeed({ _tag: "OwnPort", port })
    : Effect.fail(new Error(`CANARYROLL_METRICS_PORT: expected a port (0-65535), "api" or "off", not ${JSON.stringify(value)}`))
}

const freePort = (host: string) =>
  Effect.promise(() =>
    new Promise<number>((resolve, reject) => {
      const probe = net.createServer()
      probe.once("error", reject)
      probe.listen(0, host, () => {
        const address = probe.address()
        probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
      })
    })
  )

const program = Effect.gen(function*() {
  const settings = yield* Settings
  const trustedProxies = yield* Effect.fromResult(ClientAddress.parseTrustedProxies(settings.trustedProxies)).pipe(
    Effect.mapError((message) => new Error(message))
  )
  const mail = Option.isNone(settings.smtpUrl) || Redacted.value(settings.smtpUrl.value).trim() === ""
    ? undefined
    : yield* Effect.fromResult(OutgoingMail.parse(settings.smtpUrl.value, Option.getOrUndefined(settings.mailFrom))).pipe(
      Effect.mapError((message) => new Error(message))
    )
  const observability = yield* Observability
  const metricsAt = yield* metricsPlace(observability.metricsPort)
  const dataDirectory = path.resolve(settings.dataDirectory)
  if (!Packaging.embeddedPostgres && (process.env["DATABASE_URL"] ?? "") === "") {
    return yield* Effect.fail(
      new Error("DATABASE_URL is required: this build (the container image) has no embedded PostgreSQL; docker-compose.yml runs one beside it")
    )
  }
  // The database first (migrated): whether to run the sandbox depends on what it holds.
  const client = yield* Layer.build(
    Postgres.Migrations.layer.pipe(
      Layer.provideMerge(Postgres.layerClient({ embedded: { dataDirectory: path.join(dataDirectory, "postgres") } }))
    )
  )
  const sql = Context.get(client, SqlClient.SqlClient)
  const accounts = yield* Postgres.PgCloudflareAccounts.make.pipe(Effect.provideService(SqlClient.SqlClient, sql))
  const sandbox = settings.sandbox === "true" || (settings.sandbox === "auto" && !(yield* accounts.anyReal))
  const simulator = sandbox
    ? yield* Sandbox.startSimulator.pipe(Effect.provideService(CloudflareAccounts.CloudflareAccounts, accounts))
    : undefined
  // PORT=0 asks for any free port: pick it now, so that the public URL (in links and in what the
  // sandbox prints) names the port the server will really listen on.
  const port = settings.port === 0 ? yield* freePort(settings.host) : settings.port
  const publicUrl = Option.getOrElse(settings.publicUrl, () => `http://localhost:${port}`).replace(/\/+$/, "")
  const config: ServerConfig.ServerConfig = {
    ...ServerConfig.defaults,
    publicUrl,
    // Even in the sandbox: a token someone saves is a real one, checked against Cloudflare. Only
    // the seeded sandbox account points at the simulator (its row stores the simulator's URL).
    cloudflareBaseUrl: settings.cloudflareBaseUrl,
    trustedProxies,
    signup: settings.signup,
    liveHeartbeatMs: settings.liveHeartbeatMs
  }
  const services = Server.layerServices({
    client: Layer.succeedContext(client),
    config,
    dataDirectory,
    budgetShare: settings.budgetShare,
    // Every process sends notifications, as every process may step releases: the outbox
    // checkpoint, the delivery key and the claims' leases keep each message sent once.
    notifications: {
      deliver: true,
      // A sandbox runs on someone's machine: its webhooks and SMTP servers may well be on localhost.
      sender: { allowPrivateAddresses: settings.allowPrivateWebhooks ?? sandbox }
    },
    mail
  })
  // The dashboard at `/`: built here when the build is missing or older than its sources (a
  // fresh clone needs no build command); CANARYROLL_DASHBOARD=false serves the API alone.
  const dashboard = settings.dashboard ? yield* Effect.promise(() => Dashboard.ensureBuilt()).pipe(
    Effect.tap((built) => built ? Effect.logInfo(`built the dashboard into ${Dashboard.distDirectory}`) : Effect.void),
    Effect.as(Dashboard.distDirectory)
  ) : undefined
  const http = Server.layerHttp(port, settings.host, { dashboard, serveMetrics: metricsAt._tag === "ApiPort" })
  const loop = settings.scheduler ? Postgres.SchedulerLoop.layer() : Layer.empty
  const running = yield* Layer.build(Layer.mergeAll(http, loop).pipe(Layer.provideMerge(services)))
  const address = HttpServer.formatAddress(Context.get(running, HttpServer.HttpServer).address)
  yield* Effect.logInfo(`CanaryRoll is listening on ${address} (public URL ${publicUrl})`)
  yield* mail === undefined
    ? Effect.logInfo(
      `invitations are not emailed (no CANARYROLL_SMTP_URL${Option.isSome(settings.mailFrom) ? "; CANARYROLL_MAIL_FROM alone is not enough" : ""}): admins pass the link on`
    )
    : Effect.logInfo(`invitations are emailed through ${mail.host}:${mail.port} (${mail.security}) from ${mail.from}`)
  if (metricsAt._tag === "OwnPort") {
    const metrics = yield* Layer.build(
      Server.layerMetricsHttp(metricsAt.port, observability.metricsHost).pipe(
        Layer.provide(Layer.succeedContext(running))
      )
    )
    const metricsAddress = HttpServer.formatAddress(Context.get(metrics, HttpServer.HttpServer).address)
    yield* Effect.logInfo(`metrics at ${metricsAddress}/metrics`)
  }
  if (settings.allowPrivateWebhooks ?? sandbox) {
    const why = settings.allowPrivateWebhooks === undefined ? "sandbox" : "CANARYROLL_ALLOW_PRIVATE_WEBHOOKS=true"
    yield* Effect.logWarning(
      `private addresses allowed for notifications (${why}): webhooks and email may reach loopback, the local network and cloud metadata`
    )
  }
  if (settings.scheduler) {
    const scheduler = Context.get(running, Postgres.SchedulerLoop.SchedulerLoop)
    yield* Effect.logInfo(`scheduler ${scheduler.owner} is stepping releases`)
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(SubscriptionRef.get(scheduler.state), (state) =>
        Effect.logInfo(`scheduler ${scheduler.owner} stopped after claiming ${state.claimed} release steps`))
    )
  }
  if (simulator !== undefined) {
    const details = yield* Sandbox.seed(config, simulator).pipe(Effect.provideContext(running))
    const file = path.join(dataDirectory, "sandbox.json")
    // 0600, even over a file an earlier run left with a wider mode.
    yield* Sandbox.writeDetails(file, details)
    const description = Sandbox.describe(details, path.relative(process.cwd(), file) || file)
    // A person reads the text; a collector of JSON lines gets it as one line like any other.
    yield* observability.logFormat === "json" ? Effect.logInfo(description) : Console.log(description)
  }
  return yield* Effect.never
}).pipe(Effect.scoped)

const Logging = Config.all({
  level: Config.Literals(Object.keys(logLevels) as Array<keyof typeof logLevels>, "CANARYROLL_LOG_LEVEL").pipe(
    Config.withDefault("info" as const)
  ),
  format: Config.Literals(["text", "json"], "CANARYROLL_LOG_FORMAT").pipe(Config.withDefault("text" as const))
})

/** The whole server, until interrupted (SIGINT/SIGTERM under `NodeRuntime.runMain`). */
export const main = Effect.flatMap(
  // A bad log setting is said with the default logger, before any other is chosen.
  Effect.gen(function*() {
    return yield* Logging
  }).pipe(Effect.tapCause((cause) => Effect.logFatal("CanaryRoll stopped", cause))),
  ({ format, level }) => {
    const leveled = program.pipe(
      // Said through the chosen logger (a JSON line when json), not runMain's own report.
      Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logFatal("CanaryRoll stopped", cause)),
      Effect.provideService(References.MinimumLogLevel, logLevels[level])
    )
    // JSON replaces the text logger: one object per line, nothing else on standard output.
    return format === "json" ? leveled.pipe(Effect.provide(Logger.layer([JsonLogs.logger]))) : leveled
  }
)

/**
 * The exit code. SIGTERM and SIGINT interrupt the program; once its scope has closed (no more
 * requests or claims, running steps finished or their leases given up, the listener closed) that
 * is a clean stop: 0, which is what systemd, Docker and Kubernetes expect of a service asked to
 * stop (runMain's default, 130, reads as a crash). A failure keeps runMain's codes.
 */
export const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

if (import.meta.main) NodeRuntime.runMain(main, { teardown, disableErrorReporting: true })
