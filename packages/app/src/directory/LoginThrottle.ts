/**
 * LoginThrottle port: the failed log-ins counted per client address and per account (and the
 * sign-ups per client address), and the growing waits they impose. Nobody is ever locked out:
 * a refused attempt learns how long to wait (429 with `Retry-After`), and the wait is the same
 * whether the password would have been right.
 *
 * The rule, per counter (`Policy`): the first `freeFailures` failures cost nothing; after that
 * each failure doubles the wait before the next attempt, from `firstDelayMs` up to `maxDelayMs`;
 * a counter is forgotten `forgetAfterMs` after its last failure. A log-in attempt is checked
 * against three counters:
 * - the client address (every wrong password from it, any account): slows one address guessing
 *   across many accounts. A success does not clear it, or logging in to one's own account would
 *   buy guesses against others.
 * - the account from this address: slows one address guessing one account.
 * - the account from every address: slows guessing spread over many addresses. It applies only
 *   to addresses that have themselves failed on this account, so failures elsewhere never delay a
 *   person who types the right password (that is what makes this a throttle, not a lock-out).
 * A right password clears both account counters. Sign-ups count per client address.
 *
 * Only a verdict counts: an attempt is admitted (held "in flight" for `checkLeaseMs`), then
 * settled as counted (a wrong password, a sign-up made), cleared (a right password) or uncounted
 * (anything else: our own 503, an interrupted request). In-flight attempts count toward a free
 * allowance and, past it, only one attempt per counter is checked at a time, so parallel guesses
 * cannot slip past the counters while their (slow) checks run. An attempt a crashed process
 * never settled is forgotten when its lease ends.
 *
 * Counters are stored by the SHA-256 of their key (`address:…`, `account:…`): the store holds
 * neither emails nor addresses. IPv6 clients are counted per /64, the block one host gets.
 *
 * Layers: `layerMemory` (one process) and a `Store` of counters any storage can keep (`make`):
 * `PgLoginThrottle.layer` in `@canaryroll/postgres` keeps them in the `login_throttle` table,
 * shared by every process on the database. Every layer shares this module's rule; the
 * `LoginThrottleContract` suite (`@canaryroll/app/testing`) runs against each.
 *
 * @since 0.2.0
 */
import { Clock, Context, Effect, Exit, Layer, Schema } from "effect"
import { Base64Url } from "effect/encoding"
import { NetAddress } from "effect/net"
import type { StorageUnavailable } from "../Storage.ts"

export interface Policy {
  /** Failures that cost nothing. */
  readonly freeFailures: number
  /** The wait after the first failure beyond the free ones; it doubles with each further one. */
  readonly firstDelayMs: number
  /** The longest wait. */
  readonly maxDelayMs: number
  /** A counter is forgotten this long after its last failure. */
  readonly forgetAfterMs: number
}

export interface Options {
  /** Wrong passwords from one client address, any account. */
  readonly address: Policy
  /** Wrong passwords for one account (from one address, and from every address). */
  readonly account: Policy
  /** Sign-ups from one client address. */
  readonly signup: Policy
  /** How long an admitted attempt may stay unsettled before it is forgotten (a crashed process). */
  readonly checkLeaseMs: number
}

const minute = 60_000
const hour = 60 * minute

export const defaults: Options = {
  address: { freeFailures: 20, firstDelayMs: 1_000, maxDelayMs: 15 * minute, forgetAfterMs: hour },
  account: { freeFailures: 5, firstDelayMs: 1_000, maxDelayMs: 15 * minute, forgetAfterMs: 24 * hour },
  signup: { freeFailures: 10, firstDelayMs: minute, maxDelayMs: hour, forgetAfterMs: 24 * hour },
  checkLeaseMs: minute
}

/** What is being attempted, and by whom. `address` is the client's (see `ClientAddress`). */
export type Attempt =
  | { readonly _tag: "LogIn"; readonly address: string; readonly email: string }
  | { readonly _tag: "SignUp"; readonly address: string }

export const logIn = (address: string, email: string): Attempt => ({ _tag: "LogIn", address, email })
export const signUp = (address: string): Attempt => ({ _tag: "SignUp", address })

/**
 * How an admitted attempt ended: `counted` (a wrong password; a sign-up made), `cleared` (the
 * right password: the account's counters start again) or `uncounted` (no verdict: our failure).
 */
export type Outcome = "counted" | "cleared" | "uncounted"

/** The attempt must wait `waitMs` before it may be made (never a lock-out: it is always finite). */
export class MustWait extends Schema.TaggedError<MustWait>()("MustWait", {
  waitMs: Schema.Number
}) {}

/** An attempt let through, to be settled with its outcome. */
export interface Admission {
  readonly attempt: Attempt
}

export class LoginThrottle extends Context.Service<LoginThrottle, {
  /** Lets the attempt through (in flight) or says how long it must wait. */
  readonly admit: (attempt: Attempt) => Effect.Effect<Admission, MustWait | StorageUnavailable>
  /** Records how an admitted attempt ended. */
  readonly settle: (admission: Admission, outcome: Outcome) => Effect.Effect<void, StorageUnavailable>
}>()("@canaryroll/app/LoginThrottle") {}

/**
 * Runs `check` as an attempt: refused with `MustWait` when a counter says wait, otherwise
 * admitted, and settled with what `outcomeOf` says of how it ended (`uncounted` for anything
 * that is not a verdict: our own failures never count against anyone). A check that dies or is
 * interrupted is always `uncounted`.
 */
export const guard = <A, E, R>(
  attempt: Attempt,
  check: Effect.Effect<A, E, R>,
  outcomeOf: (exit: Exit.Exit<A, E>) => Outcome
): Effect.Effect<A, E | MustWait | StorageUnavailable, R | LoginThrottle> =>
  LoginThrottle.use((throttle) =>
    Effect.acquireUseRelease(
      throttle.admit(attempt),
      () => check,
      (admission, exit) =>
        throttle.settle(admission, Exit.hasDies(exit) || Exit.hasInterrupts(exit) ? "uncounted" : outcomeOf(exit)).pipe(
          // Settling happens after the answer is decided; if the store is down now, the lease
          // ends the attempt instead.
          Effect.catch((error) => Effect.logWarning("could not settle a log-in attempt", error.message))
        )
    ))

// -----------------------------------------------------------------------------------------------
// The rule, over stored counters
// -----------------------------------------------------------------------------------------------

/** One stored counter. Times in epoch milliseconds (0: none). */
export interface Counter {
  readonly failures: number
  readonly lastFailureAt: number
  readonly inFlight: number
  readonly inFlightUntil: number
  /** After this the counter counts for nothing and may be deleted. */
  readonly forgetAt: number
}

/**
 * What a store's `decide` returns: its result, and the new counter of each key it changes
 * (`undefined`: delete it); keys it leaves out stay as they were.
 */
export interface Decision<A> {
  readonly result: A
  readonly writes: ReadonlyMap<string, Counter | undefined>
}

/** The wait before the next attempt after `failures` failures. */
export const delayAfter = (policy: Policy, failures: number): number =>
  failures < policy.freeFailures ? 0 : Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (failures - policy.freeFailures))

interface Live {
  readonly failures: number
  readonly lastFailureAt: number
  readonly inFlight: number
}

/** A counter as it stands at `now`: forgotten failures and ended leases count for nothing. */
const live = (counter: Counter | undefined, policy: Policy, now: number): Live => {
  if (counter === undefined) return { failures: 0, lastFailureAt: 0, inFlight: 0 }
  const remembered = counter.failures > 0 && counter.lastFailureAt + policy.forgetAfterMs > now
  return {
    failures: remembered ? counter.failures : 0,
    lastFailureAt: remembered ? counter.lastFailureAt : 0,
    inFlight: counter.inFlightUntil > now ? counter.inFlight : 0
  }
}

/** How long an attempt must wait for this counter (0: it may go now). */
const waitFor = (state: Live, policy: Policy, now: number): number => {
  if (state.failures + state.inFlight < policy.freeFailures) return 0
  const readyAt = state.failures === 0 ? now : state.lastFailureAt + delayAfter(policy, state.failures)
  // Past the free failures, one attempt at a time: another is being checked right now, and its
  // verdict decides the wait, so ask for a second.
  if (state.inFlight > 0) return Math.max(readyAt - now, 1_000)
  return Math.max(readyAt - now, 0)
}

const stored = (state: Live, policy: Policy, inFlightUntil: number): Counter | undefined =>
  state.failures === 0 && state.inFlight === 0 ? undefined : {
    failures: state.failures,
    lastFailureAt: state.lastFailureAt,
    inFlight: state.inFlight,
    inFlightUntil: state.inFlight === 0 ? 0 : inFlightUntil,
    forgetAt: Math.max(state.failures === 0 ? 0 : state.lastFailureAt + policy.forgetAfterMs, state.inFlight === 0 ? 0 : inFlightUntil)
  }

type Role = "address" | "accountFromAddress" | "account" | "signup"

interface Key {
  readonly key: string
  readonly role: Role
}

/** SHA-256, base64url: the same keys the Node-only version wrote, so stored counters still count. */
const digest = (text: string) =>
  Effect.map(
    Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
    (hash) => Base64Url.encode(new Uint8Array(hash))
  )

/**
 * The client's counting unit: an IPv4 address, or the /64 of an IPv6 one (a host is handed a
 * whole /64, so counting single IPv6 addresses would give it 2^64 fresh starts).
 */
export const addressUnit = (address: string): string => {
  const parsed = NetAddress.ipFromString(address)
  if (parsed._tag === "Failure") return address
  const canonical = NetAddress.toCanonical(parsed.success)
  if (!NetAddress.isIpv6Address(canonical)) return NetAddress.formatIp(canonical)
  const segments = NetAddress.ipv6ToSegments(canonical)
  return `${segments.slice(0, 4).map((segment) => segment.toString(16)).join(":")}::/64`
}

const keysOf = (attempt: Attempt): Effect.Effect<ReadonlyArray<Key>> => {
  const address = addressUnit(attempt.address)
  const keyed = (entries: ReadonlyArray<readonly [string, Role]>) =>
    Effect.forEach(entries, ([text, role]) => Effect.map(digest(text), (key): Key => ({ key, role })))
  switch (attempt._tag) {
    case "LogIn": {
      const email = attempt.email.trim().toLowerCase()
      return keyed([
        [`address:${address}`, "address"],
        [`account:${email}\naddress:${address}`, "accountFromAddress"],
        [`account:${email}`, "account"]
      ])
    }
    case "SignUp":
      return keyed([[`signup:${address}`, "signup"]])
  }
}

const policyOf = (options: Options, role: Role): Policy => {
  switch (role) {
    case "address":
      return options.address
    case "accountFromAddress":
    case "account":
      return options.account
    case "signup":
      return options.signup
  }
}

/**
 * A store of counters by key: `modify` reads the given keys' counters and writes what `decide`
 * returns for them (`undefined`: delete), as one step no other `modify` of those keys interleaves
 * with, in this process or another.
 */
export interface Store {
  readonly modify: <A>(
    keys: ReadonlyArray<string>,
    now: number,
    decide: (counters: ReadonlyMap<string, Counter>) => Decision<A>
  ) => Effect.Effect<A, StorageUnavailable>
}

/** The port over a store: the rule above, applied in one `modify` per admission and settlement. */
export const make = (store: Store, options: Options = defaults): LoginThrottle["Service"] => {
  const admit = (attempt: Attempt) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const keys = yield* keysOf(attempt)
      const waitMs = yield* store.modify(keys.map((_) => _.key), now, (counters) => {
        const states = keys.map(({ key, role }) => ({ key, role, state: live(counters.get(key), policyOf(options, role), now) }))
        // The account's count over every address binds only an address that has failed on it.
        const failedHere = states.some(({ role, state }) => role === "accountFromAddress" && state.failures > 0)
        const waitMs = Math.max(
          0,
          ...states
            .filter(({ role }) => role !== "account" || failedHere)
            .map(({ role, state }) => waitFor(state, policyOf(options, role), now))
        )
        if (waitMs > 0) return { result: waitMs, writes: new Map() }
        const until = now + options.checkLeaseMs
        const writes = new Map(states.map(({ key, role, state }) =>
          [key, stored({ ...state, inFlight: state.inFlight + 1 }, policyOf(options, role), until)] as const
        ))
        return { result: 0, writes }
      })
      if (waitMs > 0) return yield* new MustWait({ waitMs })
      return { attempt }
    })

  const settle = (admission: Admission, outcome: Outcome) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const keys = yield* keysOf(admission.attempt)
      yield* store.modify(keys.map((_) => _.key), now, (counters) => {
        const writes = new Map(keys.map(({ key, role }) => {
          const policy = policyOf(options, role)
          const counter = counters.get(key)
          const state = live(counter, policy, now)
          const settled = { ...state, inFlight: Math.max(0, state.inFlight - 1) }
          const cleared = outcome === "cleared" && (role === "account" || role === "accountFromAddress")
          const next: Live = cleared
            ? { failures: 0, lastFailureAt: 0, inFlight: settled.inFlight }
            : outcome === "counted"
            ? { failures: settled.failures + 1, lastFailureAt: now, inFlight: settled.inFlight }
            : settled
          return [key, stored(next, policy, counter?.inFlightUntil ?? 0)] as const
        }))
        return { result: undefined, writes }
      })
    })

  return { admit, settle }
}

/** A store in this process's memory (one process; tests). */
export const makeMemoryStore: Effect.Effect<Store> = Effect.sync(() => {
  const counters = new Map<string, Counter>()
  /** Beyond this many counters, forgotten ones are swept (junk emails cannot grow it for long). */
  const sweepAbove = 10_000
  return {
    modify: (keys, now, decide) =>
      Effect.sync(() => {
        if (counters.size > sweepAbove) {
          for (const [key, counter] of counters) if (counter.forgetAt <= now) counters.delete(key)
        }
        const current = new Map<string, Counter>()
        for (const key of keys) {
          const counter = counters.get(key)
          if (counter !== undefined) current.set(key, counter)
        }
        const { result, writes } = decide(current)
        for (const [key, counter] of writes) {
          if (counter === undefined) counters.delete(key)
          else counters.set(key, counter)
        }
        return result
      })
  }
})

/** The counters in this process's memory: one process only (tests, a single-process embedding). */
export const layerMemory = (options: Options = defaults): Layer.Layer<LoginThrottle> =>
  Layer.effect(LoginThrottle, Effect.map(makeMemoryStore, (store) => make(store, options)))
