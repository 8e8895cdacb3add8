/**
 * The first hour from a terminal: `signup`, `login` and `logout` (a session saved for the
 * commands after them, SavedSession), and the team itself: `team create`, `team use`, `team
 * list`, `members`, `invite`. Passwords come from the environment or standard input, never from the
 * arguments (SecretInput).
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Access } from "@canaryroll/api"
import * as CanaryRollApi from "./CanaryRollApi.ts"
import { CommandFailed, ExitCode } from "./ExitCode.ts"
import * as Output from "./Output.ts"
import { client, connect, connectAccount, connectAnonymous, credentials, wantsJson } from "./RootCommand.ts"
import * as SavedSession from "./SavedSession.ts"
import * as SecretInput from "./SecretInput.ts"

const password = SecretInput.read({ variable: "CANARYROLL_PASSWORD", prompt: "Password", what: "password" })

const noSession = new CommandFailed({
  exitCode: ExitCode.error,
  message: "The server answered without a session cookie: is --api-url a CanaryRoll server?"
})

/** Saves the session an answer of `apiUrl` started; says where. */
const keep = (apiUrl: string, answer: CanaryRollApi.Answer<unknown>, email: string, team: string | null) =>
  answer.session === undefined
    ? Effect.fail(noSession)
    : SavedSession.write({ apiUrl: CanaryRollApi.baseUrlOf(apiUrl), session: answer.session, email, team })

const email = Flag.String("email").pipe(Flag.withDescription("Your email: what you log in with"))

export const signup = Command.make(
  "signup",
  {
    email,
    name: Flag.String("name").pipe(Flag.withDescription("Your name (default: the email's local part)"), Flag.optional)
  },
  Effect.fn(function*(input) {
    const api = yield* connectAnonymous
    const secret = yield* password
    // An invitation's token is a credential too: from the environment only.
    const invitationToken = process.env.CANARYROLL_INVITATION_TOKEN?.trim() || undefined
    const answer = yield* api.signup({
      email: input.email,
      name: Option.getOrElse(input.name, () => input.email.split("@")[0] ?? input.email),
      password: secret,
      invitationToken
    })
    const signedIn = yield* client({ apiUrl: api.connection.apiUrl, session: answer.session, team: "" })
    const teams = (yield* signedIn.teams()).value
    const file = yield* keep(api.connection.apiUrl, answer, answer.value.user.email, teams.length === 1 ? teams[0]!.slug : null)
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.lines(
      `Signed up as ${answer.value.user.email} (${answer.value.user.name}); the session is saved in ${file}.`,
      teams.length === 1
        ? `You joined the team ${teams[0]!.name} (${teams[0]!.slug}).`
        : `Next: canaryroll team create --slug <slug> --name <name>`
    )
  })
).pipe(Command.withDescription(
  "Create your account on the server and log in; the password from standard input or CANARYROLL_PASSWORD, an invitation from CANARYROLL_INVITATION_TOKEN"
))

export const login = Command.make(
  "login",
  { email },
  Effect.fn(function*(input) {
    const api = yield* connectAnonymous
    const secret = yield* password
    const answer = yield* api.login(input.email, secret)
    const signedIn = yield* client({ apiUrl: api.connection.apiUrl, session: answer.session, team: "" })
    const teams = (yield* signedIn.teams()).value
    const file = yield* keep(api.connection.apiUrl, answer, answer.value.user.email, teams.length === 1 ? teams[0]!.slug : null)
    if (yield* wantsJson) return yield* Output.json({ ...(answer.json as object), teams })
    yield* Output.lines(
      `Logged in as ${answer.value.user.email}; the session is saved in ${file} (only you can read it).`,
      teams.length === 0
        ? "You belong to no team yet: canaryroll team create --slug <slug> --name <name>"
        : teams.length === 1
        ? `Team: ${teams[0]!.name} (${teams[0]!.slug}), your role ${teams[0]!.role}.`
        : `Your teams: ${teams.map((team) => team.slug).join(", ")}. Pick one with: canaryroll team use <slug>`
    )
  })
).pipe(Command.withDescription("Log in and save the session for the next commands; the password from standard input or CANARYROLL_PASSWORD"))

export const logout = Command.make(
  "logout",
  {},
  Effect.fn(function*() {
    // The saved session itself, whatever --token or --api-url say: it is what logging out ends.
    const saved = yield* SavedSession.read
    if (Option.isSome(saved)) {
      const api = yield* client({ apiUrl: saved.value.apiUrl, session: saved.value.session, team: "" })
      // Ended on the server first: a copy of the file is then worth nothing. A session that had
      // already ended is refused (401): nothing to end.
      yield* api.logout().pipe(Effect.catchTag("ApiRefused", () => Effect.void))
    }
    yield* SavedSession.remove
    yield* Output.lines(Option.isSome(saved) ? "Logged out: the session ended and its file is removed." : "No saved session.")
  })
).pipe(Command.withDescription("End the saved session on the server and remove it"))

const teamCreate = Command.make(
  "create",
  {
    slug: Flag.String("slug").pipe(Flag.withDescription("The team's slug: lowercase letters, digits, dashes (in URLs and --team)")),
    name: Flag.String("name").pipe(Flag.withDescription("The team's name (default: the slug)"), Flag.optional)
  },
  Effect.fn(function*(input) {
    const api = yield* connectAccount
    const created = yield* api.createTeam(Option.getOrElse(input.name, () => input.slug), input.slug)
    const { saved } = yield* credentials
    // The team just made is the one the next commands mean.
    if (Option.isSome(saved)) yield* SavedSession.write({ ...saved.value, team: created.value.slug })
    if (yield* wantsJson) return yield* Output.json(created.json)
    yield* Output.lines(
      `Created the team ${created.value.name} (${created.value.slug}); you are its admin.`,
      ...(Option.isSome(saved) ? [`The next commands use it (canaryroll team use <slug> to switch).`] : []),
      `Next: canaryroll cloudflare connect --account <account id>`
    )
  })
).pipe(Command.withDescription("Create a team (with the standard plan); you become its admin"))

const teamUse = Command.make(
  "use",
  { team: Argument.String("team").pipe(Argument.withDescription("The team's slug or id")) },
  Effect.fn(function*({ team }) {
    const { saved } = yield* credentials
    if (Option.isNone(saved)) {
      return yield* new CommandFailed({
        exitCode: ExitCode.usage,
        message: "No saved session to keep a team in: log in with `canaryroll login`, or pass --team (CANARYROLL_TEAM)"
      })
    }
    const api = yield* connectAccount
    const found = (yield* api.teams()).value.find((candidate) => candidate.slug === team || candidate.id === team)
    if (found === undefined) {
      return yield* new CommandFailed({ exitCode: ExitCode.error, message: `You are not a member of a team ${JSON.stringify(team)}.` })
    }
    yield* SavedSession.write({ ...saved.value, team: found.slug })
    yield* Output.lines(`The next commands use the team ${found.name} (${found.slug}).`)
  })
).pipe(Command.withDescription("Use this team by default (kept with the saved session)"))

const teamList = Command.make(
  "list",
  {},
  Effect.fn(function*() {
    const api = yield* connectAccount
    const answer = yield* api.teams()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    const { team } = yield* credentials
    yield* Output.table(
      ["SLUG", "NAME", "ROLE", ""],
      answer.value.map((entry) => [
        entry.slug,
        entry.name,
        entry.role,
        Option.contains(team, entry.slug) || Option.contains(team, entry.id) ? "(in use)" : ""
      ]),
      "You belong to no team yet: canaryroll team create --slug <slug>"
    )
  })
).pipe(Command.withDescription("The teams you belong to"))

export const members = Command.make(
  "members",
  {},
  Effect.fn(function*() {
    const api = yield* connect
    const answer = yield* api.members()
    if (yield* wantsJson) return yield* Output.json(answer.json)
    yield* Output.table(
      ["EMAIL", "NAME", "ROLE", "JOINED"],
      answer.value.map((member) => [member.email, member.name, member.role, Output.time(member.joinedAt)]),
      "No members."
    )
  })
).pipe(Command.withDescription("The team's members and their roles"))

export const invite = Command.make(
  "invite",
  {
    email: Flag.String("email").pipe(Flag.withDescription("Who to invite")),
    role: Flag.Literals("role", Access.roles).pipe(Flag.withDescription("Their role"), Flag.withDefault("deploy"))
  },
  Effect.fn(function*(input) {
    const api = yield* connect
    const answer = yield* api.invite(input.email, input.role)
    if (yield* wantsJson) return yield* Output.json(answer.json)
    const invited = answer.value
    yield* Output.lines(
      `Invited ${invited.email} as ${invited.role} (until ${Output.time(invited.expiresAt)}).`,
      invited.emailed
        ? `The invitation was emailed to ${invited.email}. The link, should it not arrive:`
        : `It was not emailed: ${invited.notEmailedReason ?? "the server did not say why"}. Send them this link:`,
      ``,
      `  ${invited.acceptUrl}`,
      ``,
      `It is shown only this once. From a terminal they can instead run, with the token from the link:`,
      `  CANARYROLL_INVITATION_TOKEN=… canaryroll signup --api-url ${api.connection.apiUrl} --email ${invited.email}`
    )
  })
).pipe(Command.withDescription("Invite someone to the team (admin); the invitation link is shown once"))

export const team = Command.make("team").pipe(
  Command.withDescription("Your teams: create one, list them, pick the one the commands use"),
  Command.withSubcommands([teamCreate, teamUse, teamList])
)
