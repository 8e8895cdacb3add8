/**
 * The release endpoints people steer a release with come from the core's table of person
 * commands: one `POST /deployments/{id}/<name>` per command, documented with the table's words,
 * and none that the table does not list.
 */
import { PersonCommand } from "@canaryroll/core"
import { assert, describe, it } from "@effect/vitest"
import { OpenApi } from "effect/http-api"
import { Api } from "../src/index.ts"

const document = OpenApi.fromApi(Api.Api)
const base = "/api/teams/{team}/deployments/{id}/"

describe("person commands", () => {
  it("each has its endpoint, summarised and described from the table", () => {
    for (const name of PersonCommand.names) {
      const operation = document.paths[`${base}${name}`]?.post
      assert.isDefined(operation, `no endpoint for ${name}`)
      assert.strictEqual(operation?.summary, PersonCommand.commands[name].summary)
      assert.include(operation?.description ?? "", PersonCommand.commands[name].description)
    }
  })

  it("no release endpoint acts that the table does not list", () => {
    const actions = Object.entries(document.paths)
      .filter(([path, item]) => path.startsWith(base) && item.post !== undefined)
      .map(([path]) => path.slice(base.length))
    assert.sameMembers(actions, [...PersonCommand.names])
  })

  it("the API hands its clients the same table", () => {
    assert.strictEqual(Api.PersonCommand, PersonCommand)
  })
})
