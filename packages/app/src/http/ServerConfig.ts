/**
 * What the handlers need to know about the server they run in, handed in by the runtime: the
 * Node server's `main.ts` builds it from the environment (see docs/operations.md); tests build it
 * directly.
 *
 * @since 0.1.0
 */
import { Credentials } from "@canaryroll/cloudflare"
import { Context, Layer } from "effect"
import * as ClientAddress from "./ClientAddress.ts"
import * as LoginThrottle from "../directory/LoginThrottle.ts"
import * as PasswordHash from "../security/PasswordHash.ts"

export interface ServerConfig {
  /** Where people reach the server: the base of release pages and invitation links. */
  readonly publicUrl: string
  /** The Cloudflare API new credentials are checked against (a simulator's in the sandbox). */
  readonly cloudflareBaseUrl: string
  readonly passwordParameters: PasswordHash.Parameters
  readonly sessionTtlMs: number
  readonly invitationTtlMs: number
  /** Request bodies larger than this are refused with 413. */
  readonly maxBodyBytes: number
  /** How failed log-ins and sign-ups slow further attempts (429 with Retry-After; never a lock-out). */
  readonly loginThrottle: LoginThrottle.Options
  /**
   * The proxies whose `X-Forwarded-For` names the client (`CANARYROLL_TRUSTED_PROXIES`); from
   * anyone else the header is ignored and the socket's peer is the client.
   */
  readonly trustedProxies: ClientAddress.TrustedProxies
  /** `open`: anyone may sign up; `invite-only`: only with a valid invitation (`CANARYROLL_SIGNUP`). */
  readonly signup: Signup
  /** How often a release's live stream says it is alive (`CANARYROLL_LIVE_HEARTBEAT_MS`, default 15 s). */
  readonly liveHeartbeatMs: number
  /**
   * How long a live stream lasts before the server ends it (default 5 minutes). The browser
   * reconnects from its `Last-Event-ID` and passes the access checks again, so a revoked token,
   * an ended session or a removed member stops receiving within this time.
   */
  readonly liveStreamMaxMs: number
}

export type Signup = "open" | "invite-only"

export class CurrentServerConfig extends Context.Service<CurrentServerConfig, ServerConfig>()(
  "@canaryroll/server/ServerConfig"
) {}

export const defaults: ServerConfig = {
  publicUrl: "http://localhost:8787",
  cloudflareBaseUrl: Credentials.defaultBaseUrl,
  passwordParameters: PasswordHash.current,
  sessionTtlMs: 14 * 24 * 60 * 60 * 1000,
  invitationTtlMs: 7 * 24 * 60 * 60 * 1000,
  maxBodyBytes: 64 * 1024,
  loginThrottle: LoginThrottle.defaults,
  trustedProxies: [],
  signup: "open",
  liveHeartbeatMs: 15_000,
  liveStreamMaxMs: 5 * 60_000
}

export const layer = (config: Partial<ServerConfig> = {}) =>
  Layer.succeed(CurrentServerConfig, CurrentServerConfig.of({ ...defaults, ...config }))
