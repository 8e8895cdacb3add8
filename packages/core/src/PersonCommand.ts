/**
 * PersonCommand: what people (or their tokens) may ask of a release, in one table. Each command
 * has its name (the API's path segment, the CLI's subcommand, the release page's button), the
 * orchestrator's request it becomes, what it takes besides the actor (a reason, or the step it
 * moves on from), the statuses in which it does something, and the words that describe it.
 *
 * Everything that lists the commands derives from `commands`: the orchestrator's `Request`, the
 * HTTP API's endpoints and their documentation (`@canaryroll/api`), the handler that turns a
 * request into the orchestrator's, the release page's buttons, and the CLI's client and
 * subcommands. Adding a command is a row here and its case in the decider (`ReleaseDecider`)
 * and the orchestrator (`Orchestrator.execute`), which the compiler then asks for.
 *
 * Pure data (browser-safe, like the rest of the core).
 *
 * @since 0.3.0
 */
import type * as Actor from "./Actor.ts"
import type { Status } from "./Release.ts"

export interface Definition<Tag extends string> {
  /** The orchestrator's request (`Request["_tag"]`). */
  readonly request: Tag
  /**
   * What it takes besides the actor: `reason` (recorded: why it was paused, rolled back,
   * cancelled), `fromStep` (the step the person saw, so that a retry cannot move the release
   * twice), or nothing (a reason sent is accepted and not recorded).
   */
  readonly takes: "reason" | "fromStep" | "nothing"
  /** The statuses in which the command does something; in others it is refused, or already done. */
  readonly from: ReadonlyArray<Status>
  /** A title: "Pause a release". */
  readonly summary: string
  /** What it does, in a sentence or two people read (API documentation, CLI help). */
  readonly description: string
}

/** The person commands, in the order people meet them. */
export const commands = {
  start: {
    request: "Start",
    takes: "nothing",
    from: ["pending"],
    summary: "Start a release",
    description: "Starts a pending release: its first step's traffic split goes live on Cloudflare."
  },
  advance: {
    request: "Advance",
    takes: "fromStep",
    from: ["in_progress"],
    summary: "Advance a release",
    description: "Moves a release on to its next step now, without waiting for the soak time."
  },
  pause: {
    request: "Pause",
    takes: "reason",
    from: ["in_progress"],
    summary: "Pause a release",
    description: "Holds a release at its current step: traffic stays as it is and no step is taken until it is resumed."
  },
  resume: {
    request: "Resume",
    takes: "nothing",
    from: ["paused"],
    summary: "Resume a release",
    description: "Resumes a paused release from its current step."
  },
  rollback: {
    request: "Rollback",
    takes: "reason",
    from: ["in_progress", "paused"],
    summary: "Roll a release back",
    description: "Sends all traffic back to the stable version and ends the release as rolled back. Possible from any state that has not ended."
  },
  cancel: {
    request: "Cancel",
    takes: "reason",
    from: ["pending"],
    summary: "Cancel a release",
    description: "Cancels a release that has not started (pending); nothing changes on Cloudflare. A started release is rolled back instead."
  }
} as const satisfies Record<string, Definition<string>>

export type Name = keyof typeof commands

/** Every command's name, in the table's order. */
export const names = Object.keys(commands) as ReadonlyArray<Name>

/** The commands that take a reason, or nothing: every one but `advance`, whose request names a step. */
export const simple = names.filter((name): name is Exclude<Name, { readonly [N in Name]: (typeof commands)[N]["takes"] extends "fromStep" ? N : never }[Name]> =>
  commands[name].takes !== "fromStep"
)

export type Simple = (typeof simple)[number]

/** What the orchestrator is asked: the command's request, the actor, and what the command takes. */
export type Request = {
  readonly [N in Name]: { readonly _tag: (typeof commands)[N]["request"]; readonly actor: Actor.Actor } & (
    (typeof commands)[N]["takes"] extends "reason" ? { readonly reason?: string | undefined }
      : (typeof commands)[N]["takes"] extends "fromStep" ? { readonly fromStep?: number | undefined }
      : {}
  )
}[Name]

/** The request of command `name`: what it does not take is left out. */
export const request = (
  name: Name,
  input: { readonly actor: Actor.Actor; readonly reason?: string | undefined; readonly fromStep?: number | undefined }
): Request => {
  const { request: _tag, takes } = commands[name]
  // The table pairs each request tag with what it takes, as `Request` reads it.
  return (takes === "reason"
    ? { _tag, actor: input.actor, reason: input.reason }
    : takes === "fromStep"
    ? { _tag, actor: input.actor, fromStep: input.fromStep }
    : { _tag, actor: input.actor }) as Request
}

/** Whether `name` does something to a release in `status` (a page shows its button then). */
export const appliesTo = (name: Name, status: Status): boolean => (commands[name].from as ReadonlyArray<Status>).includes(status)
