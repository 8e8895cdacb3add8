/**
 * The container image, without a container engine. The Dockerfile is parsed (dockerfile-ast)
 * and checked: a build stage and a runtime stage, the runtime's user not root, a HEALTHCHECK on
 * `/api/ready`, what the runtime copies from the build. Then exactly what the build stage produces
 * (`scripts/bundle.ts`, the command its RUN gives) is built into a folder standing for `/app`, and
 * started with the image's CMD and the runtime stage's ENV, outside the workspace (no node_modules
 * to lean on), against the tests' PostgreSQL: it serves the API, the dashboard and `/metrics`, the
 * HEALTHCHECK's own command passes, SIGTERM exits 0, and without DATABASE_URL it refuses to start,
 * naming the variable.
 */
import * as TestDatabase from "@canaryroll/postgres/test-database"
import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import { DockerfileParser, type Instruction } from "dockerfile-ast"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Bundle from "../../scripts/bundle.ts"
import { spawnServer } from "./ServerProcess.ts"

const database = TestDatabase.forFile()

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const dockerfileText = await fs.readFile(path.join(root, "Dockerfile"), "utf8")
const dockerfile = DockerfileParser.parse(dockerfileText)

/** An instruction's text as written, continuation lines joined. */
const textOf = (instruction: Instruction) => {
  const range = instruction.getRange()
  const lines = dockerfileText.split("\n").slice(range.start.line, range.end.line + 1)
  return lines.join("\n").replace(/\\\n\s*/g, " ")
}

const stages = dockerfile.getFROMs().map((from) => ({
  name: from.getBuildStage(),
  image: `${from.getImageName()}:${from.getImageTag()}`,
  line: from.getRange().start.line
}))
const runtimeStage = stages.at(-1)!
/** The instructions of the last stage: what the image is. */
const runtime = dockerfile.getInstructions().filter((instruction) => instruction.getRange().start.line > runtimeStage.line)
const build = dockerfile.getInstructions().filter((instruction) =>
  instruction.getRange().start.line > stages[0]!.line && instruction.getRange().start.line < runtimeStage.line
)
const keyword = (instructions: ReadonlyArray<Instruction>, name: string) => instructions.filter((instruction) => instruction.getKeyword() === name)

/** The runtime stage's ENV, as the container starts with it. */
const imageEnvironment = (): Record<string, string> => {
  const environment: Record<string, string> = {}
  for (const env of dockerfile.getENVs().filter((instruction) => instruction.getRange().start.line > runtimeStage.line)) {
    for (const property of env.getProperties()) environment[property.getName()] = property.getValue() ?? ""
  }
  return environment
}

const jsonCommand = (instruction: Instruction): ReadonlyArray<string> => {
  const match = /\b(?:CMD|ENTRYPOINT)\s+(\[.*\])\s*$/s.exec(textOf(instruction))
  assert.isNotNull(match, `exec form (a JSON array) expected: ${textOf(instruction)}`)
  return JSON.parse(match![1]!) as ReadonlyArray<string>
}

describe("the container image", () => {
  it("Dockerfile: a build and a slim runtime stage, not root, a health check on /api/ready", () => {
    assert.deepStrictEqual(stages.map((stage) => stage.name), ["build", "runtime"])
    assert.match(runtimeStage.image, /^node:\$\{NODE_VERSION\}-[a-z]+-slim$/, "the runtime is Node's slim image")
    const users = keyword(runtime, "USER").map((user) => user.getArgumentsContent()?.trim())
    assert.lengthOf(users, 1)
    assert.notInclude(["root", "0", "0:0", "root:root"], users[0], "runs as an unprivileged user")
    const healthchecks = keyword(runtime, "HEALTHCHECK")
    assert.lengthOf(healthchecks, 1)
    assert.include(textOf(healthchecks[0]!), "/api/ready")
    // The runtime takes only the build's output: no sources, no node_modules.
    const copies = keyword(runtime, "COPY").map(textOf)
    assert.deepStrictEqual(copies, ["COPY --from=build /out /app"])
    assert.strictEqual(keyword(runtime, "WORKDIR").map((workdir) => workdir.getArgumentsContent())[0], "/app")
    assert.deepStrictEqual(jsonCommand(keyword(runtime, "CMD")[0]!), ["node", Bundle.layout.server])
    // The build stage produces /out with the bundle script.
    assert.isTrue(
      keyword(build, "RUN").some((run) => textOf(run).includes("--filter @canaryroll/server run bundle /out")),
      "the build stage runs scripts/bundle.ts into /out"
    )
    assert.strictEqual(imageEnvironment()["HOST"], "0.0.0.0", "listens on every interface inside the container")
  })

  it("the build output, started as CMD says with the image's environment, serves and stops cleanly", async () => {
    // `/app` of the image: a folder outside the workspace, so nothing resolves from its node_modules.
    const app = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-image-"))
    const dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), "canaryroll-image-data-"))
    try {
      await Bundle.bundle(app)
      const command = jsonCommand(keyword(runtime, "CMD")[0]!)
      assert.strictEqual(command[0], "node")
      const environment = {
        ...imageEnvironment(),
        CANARYROLL_DATA_DIR: dataDirectory,
        HOST: "127.0.0.1",
        PORT: "0",
        CANARYROLL_SECRET_KEY: randomBytes(32).toString("hex")
      }

      // Without DATABASE_URL: refused, naming it.
      const refused = spawnServer({ ...environment, DATABASE_URL: "" }, { args: command.slice(1), cwd: app })
      const refusal = await refused.exited
      assert.strictEqual(refusal.code, 1, refused.output())
      assert.include(refused.output(), "DATABASE_URL is required")

      const server = spawnServer({ ...environment, DATABASE_URL: Redacted.value(database.url()) }, { args: command.slice(1), cwd: app })
      try {
        const url = await server.listening
        assert.notStrictEqual(url, "", `the image's command did not start the server:\n${server.output()}`)
        const ready = await fetch(`${url}/api/ready`)
        assert.strictEqual(ready.status, 200, await ready.text())
        const dashboard = await fetch(`${url}/`)
        assert.strictEqual(dashboard.status, 200)
        assert.match(dashboard.headers.get("content-type") ?? "", /text\/html/, "the dashboard is in the image")
        assert.include(await dashboard.text(), "/static/")
        const metrics = await fetch(`${url}/metrics`)
        assert.strictEqual(metrics.status, 200)
        assert.include(await metrics.text(), "canaryroll_http_requests_total")

        // The HEALTHCHECK's command, run as Docker would inside the container.
        const healthcheck = jsonCommand(keyword(runtime, "HEALTHCHECK")[0]!)
        const port = new URL(url).port
        const healthy = await new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, healthcheck.slice(1), { env: { ...process.env, PORT: port }, stdio: "ignore" })
          child.on("exit", (code) => resolve(code))
        })
        assert.strictEqual(healthy, 0, "the health check passes on a ready server")
      } finally {
        const stopped = await server.stop()
        assert.strictEqual(stopped.code, 0, `SIGTERM exits 0:\n${server.output()}`)
      }
    } finally {
      await fs.rm(app, { recursive: true, force: true })
      await fs.rm(dataDirectory, { recursive: true, force: true })
    }
  })
})
