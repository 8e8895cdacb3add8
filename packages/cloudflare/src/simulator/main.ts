/**
 * `pnpm sim [--port N] [--seed] [--account-token]`: the Cloudflare API simulator as a process.
 * Prints exactly one JSON line on start, `{ baseUrl, controlUrl, accountId, apiToken, scripts }`,
 * then serves until SIGINT or SIGTERM. Without `--seed` the account and token exist but have no
 * Workers. With `--account-token` the token is the account's own (an "Account API token", verified
 * at `/accounts/{account_id}/tokens/verify`) instead of a user token.
 */
import { parseArgs } from "node:util"
import { seed } from "./Seed.ts"
import { start } from "./Simulator.ts"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    seed: { type: "boolean", default: false },
    "account-token": { type: "boolean", default: false }
  }
})
const tokenOwner = values["account-token"] ? "account" : "user"

const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`--port must be a port number, got ${values.port}\n`)
  process.exit(2)
}

const simulator = await start({ port, host: values.host })
const demo = values.seed
  ? seed(simulator, { tokenOwner })
  : (() => {
    const account = simulator.createAccount({ name: "CanaryRoll" })
    return { accountId: account.id, apiToken: simulator.createToken({ accountIds: [account.id], owner: tokenOwner }).value, scripts: [] }
  })()

process.stdout.write(
  `${JSON.stringify({ baseUrl: simulator.baseUrl, controlUrl: simulator.controlUrl, ...demo })}\n`
)

const stop = () => {
  simulator.close().then(() => process.exit(0), () => process.exit(1))
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
