/**
 * The API over plain `fetch` with a session cookie or a token, for what a test sets up around
 * the browser (a plan with short steps, members with a role) and for forged requests.
 */
export interface Answer {
  readonly status: number
  readonly body: any
}

export interface ApiSession {
  readonly request: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>
}

const send = async (baseUrl: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ answer: Answer; cookie: string | undefined }> => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), origin: baseUrl, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  const cookie = response.headers.getSetCookie().map((value) => value.split(";")[0]).join("; ") || undefined
  return { answer: { status: response.status, body: text === "" ? null : JSON.parse(text) }, cookie }
}

/** Signs in with email and password: every request carries the session cookie. */
export const login = async (baseUrl: string, email: string, password: string): Promise<ApiSession> => {
  const { answer, cookie } = await send(baseUrl, "POST", "/api/auth/login", { email, password }, {})
  if (answer.status !== 200 || cookie === undefined) throw new Error(`could not log in as ${email}: ${answer.status} ${JSON.stringify(answer.body)}`)
  return { request: async (method, path, body, headers = {}) => (await send(baseUrl, method, path, body, { cookie, ...headers })).answer }
}

/** Signs up a new person from an invitation (they join its team with its role). */
export const signUpInvited = async (baseUrl: string, invitationToken: string, email: string, password: string) => {
  const { answer } = await send(baseUrl, "POST", "/api/auth/signup", { email, name: email.split("@")[0], password, invitationToken }, {})
  if (answer.status !== 201) throw new Error(`could not sign up ${email}: ${answer.status} ${JSON.stringify(answer.body)}`)
}
