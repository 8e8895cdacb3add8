/**
 * What the handlers need to know about the server they run in. `main.ts` builds it from the
 * environment (see docs/operations.md); tests build it directly.
 *
 * @since 0.1.0
 */
import { Credentials } from "@canaryroll/cloudflare"
import { Context, Layer } from "effect"
import * as LoginThrottle from "./security/LoginThrottle.ts"
import * as PasswordHash from "./security/PasswordHash.ts"

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
  /** Failed log-ins per email before refusing more (429), and the window they count in. */
  readonly loginThrottle: LoginThrottle.Options
}

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
  loginThrottle: LoginThrottle.defaults
}

export const layer = (config: Partial<ServerConfig> = {}) =>
  Layer.succeed(CurrentServerConfig, CurrentServerConfig.of({ ...defaults, ...config }))
