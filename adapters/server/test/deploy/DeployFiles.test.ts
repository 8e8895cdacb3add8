/**
 * The deployment examples say what the image and the manual say: `docker-compose.yml` runs the
 * image against its PostgreSQL (started once the database is healthy, the secret key required,
 * time to stop cleanly, the metrics published on the host's loopback only), and the systemd unit
 * runs the bundle as the image does, with its settings from a root-only file and time to stop.
 * (No container engine or systemd runs here: the files are read.)
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import * as Bundle from "../../scripts/bundle.ts"

const root = fileURLToPath(new URL("../../../../", import.meta.url))

/** `30s`, `1m30s` as seconds. */
const seconds = (duration: string) =>
  [...duration.matchAll(/(\d+)([hms])/g)].reduce((total, [, n, unit]) => total + Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"], 0)

describe("deployment examples", () => {
  it("docker-compose.yml: the image on its PostgreSQL, the key required, metrics on loopback, time to stop", () => {
    const compose = parse(fs.readFileSync(`${root}/docker-compose.yml`, "utf8"))
    const postgres = compose.services.postgres
    const server = compose.services.canaryroll
    assert.match(postgres.image, /^postgres:18/)
    assert.isDefined(postgres.healthcheck, "PostgreSQL has a health check to wait on")
    assert.strictEqual(server.build, ".", "the root Dockerfile")
    assert.deepStrictEqual(server.depends_on, { postgres: { condition: "service_healthy" } })
    const environment = server.environment
    assert.match(environment.DATABASE_URL, /@postgres:5432\/canaryroll$/)
    assert.match(environment.CANARYROLL_SECRET_KEY, /^\$\{CANARYROLL_SECRET_KEY:\?/, "no start without a key")
    assert.match(environment.DATABASE_URL, /\$\{POSTGRES_PASSWORD:\?/, "no well-known database password")
    assert.strictEqual(environment.CANARYROLL_LOG_FORMAT, "json")
    const metricsPort = environment.CANARYROLL_METRICS_PORT
    assert.match(metricsPort, /^\d+$/)
    assert.include(server.ports, `127.0.0.1:${metricsPort}:${metricsPort}`)
    assert.isFalse(server.ports.some((port: string) => port.startsWith(`${metricsPort}:`)), "metrics never on every interface")
    assert.isAtLeast(seconds(server.stop_grace_period), 30)
    assert.include(Object.keys(compose.volumes), "postgres")
  })

  it("the systemd unit runs the bundle, its settings in a root-only file, with time to stop", () => {
    const unit = fs.readFileSync(`${root}/deploy/systemd/canaryroll.service`, "utf8")
    const settings = new Map<string, Array<string>>()
    for (const line of unit.split("\n")) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line)
      if (match !== null) settings.set(match[1]!, [...settings.get(match[1]!) ?? [], match[2]!])
    }
    const one = (name: string) => settings.get(name)?.[0]
    assert.strictEqual(one("ExecStart"), `/usr/bin/node ${Bundle.layout.server}`)
    assert.strictEqual(one("WorkingDirectory"), "/opt/canaryroll")
    assert.strictEqual(one("EnvironmentFile"), "/etc/canaryroll/canaryroll.env")
    assert.strictEqual(one("KillSignal"), "SIGTERM")
    assert.isAtLeast(Number(one("TimeoutStopSec")), 30)
    assert.strictEqual(one("DynamicUser"), "yes", "not root")
    assert.include(settings.get("Environment") ?? [], "CANARYROLL_SANDBOX=false")
    assert.include(settings.get("Environment") ?? [], "CANARYROLL_DATA_DIR=/var/lib/canaryroll")
  })
})
