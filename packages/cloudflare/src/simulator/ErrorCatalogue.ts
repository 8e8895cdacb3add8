/**
 * Every error the simulator answers with: HTTP status, Cloudflare error code and message, and
 * where the pair comes from. Cloudflare documents few of its codes, so each entry says whether
 * it is confirmed (Cloudflare's schemas or docs), observed (seen in real responses quoted in
 * public issues) or invented (our choice; client code must not depend on the number). Codes can
 * be overridden per simulator (`errorCodes` option) to prove exactly that.
 */

export type Provenance = "confirmed" | "observed" | "invented"

export interface CatalogueEntry {
  readonly status: number
  readonly code: number
  readonly message: string
  readonly provenance: Provenance
  /** Cloudflare nests the precise cause of some errors in an `error_chain`. */
  readonly chain?: ReadonlyArray<{ readonly code: number; readonly message: string }>
}

export const catalogue = {
  /** OAS24 `workers_api-response-common-failure` example. */
  noRoute: { status: 404, code: 7003, message: "No route for the URI", provenance: "confirmed" },
  /** Seen for malformed account ids; the message names the path. */
  invalidObjectIdentifier: {
    status: 400,
    code: 7003,
    message: "Could not route to the URI, perhaps your object identifier is invalid?",
    provenance: "observed"
  },
  /** No credentials at all. */
  missingCredentials: {
    status: 400,
    code: 9106,
    message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
    provenance: "observed"
  },
  /** An Authorization header that is not `Bearer <token>`. */
  invalidAuthorizationHeader: {
    status: 400,
    code: 6003,
    message: "Invalid request headers",
    chain: [{ code: 6111, message: "Invalid format for Authorization header" }],
    provenance: "observed"
  },
  /** Global API keys are not simulated: only API tokens. */
  unsupportedCredentials: {
    status: 400,
    code: 6003,
    message: "Invalid request headers",
    chain: [{ code: 6103, message: "Invalid format for X-Auth-Key header" }],
    provenance: "observed"
  },
  /** A well-formed token the platform does not know (reference §8: 401 with 10000). */
  unknownToken: { status: 401, code: 10000, message: "Authentication error", provenance: "invented" },
  /** `GET /user/tokens/verify` with a token the platform does not know. */
  invalidApiToken: { status: 401, code: 1000, message: "Invalid API Token", provenance: "observed" },
  /** A token without access to the account in the path. */
  accountAccessDenied: { status: 403, code: 10000, message: "Authentication error", provenance: "observed" },
  /** The message text is observed; the code (971) is widely quoted but unconfirmed. */
  rateLimited: {
    status: 429,
    code: 971,
    message: "More than 1200 requests per 300 seconds reached. Please wait and consider throttling your request speed",
    provenance: "observed"
  },
  /** Code from wrangler's worker-not-found handling. */
  workerNotFound: {
    status: 404,
    code: 10007,
    message: "This Worker does not exist on your account.",
    provenance: "observed"
  },
  versionNotFound: { status: 404, code: 10230, message: "Version not found", provenance: "invented" },
  deploymentNotFound: { status: 404, code: 10231, message: "Deployment not found", provenance: "invented" },
  /** Cloudflare says the active deployment cannot be deleted; the code is not documented. */
  activeDeploymentNotDeletable: {
    status: 400,
    code: 10232,
    message: "The latest deployment, which is actively serving traffic, cannot be deleted.",
    provenance: "invented"
  },
  /** Bad percentages, too many versions, unknown versions: Cloudflare documents only "HTTP 400". */
  invalidDeployment: { status: 400, code: 10021, message: "Invalid deployment", provenance: "invented" },
  /** What the real API answers when the multipart body has no JSON `metadata` part. */
  unreadableMetadata: {
    status: 400,
    code: 10021,
    message: "could not read content for part metadata",
    provenance: "observed"
  },
  /** Other upload problems (no main module, bad annotations); code as above, messages ours. */
  invalidUpload: { status: 400, code: 10021, message: "Invalid version upload", provenance: "invented" },
  /** Bad query parameters; wrangler's own tests use 10001 as a generic API error. */
  invalidRequest: { status: 400, code: 10001, message: "Invalid request", provenance: "invented" },
  malformedJson: { status: 400, code: 6007, message: "Malformed JSON in request body", provenance: "observed" },
  /** Used by injected 5xx faults. */
  internalError: {
    status: 500,
    code: 10013,
    message: "An unknown error has occurred. If this persists, please contact support.",
    provenance: "invented"
  }
} as const satisfies Record<string, CatalogueEntry>

export type ErrorName = keyof typeof catalogue

/** Codes replaced per simulator, for tests proving a client does not depend on them. */
export type CodeOverrides = Partial<Record<ErrorName, number>>

/**
 * A request Cloudflare would refuse. Thrown inside handlers and turned into an error envelope by
 * the server; `message` replaces the catalogue's text when the refusal names a detail.
 */
export class Rejection extends Error {
  readonly error: ErrorName
  readonly detail: string | undefined
  constructor(error: ErrorName, detail?: string) {
    super(detail ?? catalogue[error].message)
    this.error = error
    this.detail = detail
  }
}
