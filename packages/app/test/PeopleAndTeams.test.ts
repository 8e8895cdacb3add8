/**
 * The directory contracts of people, sessions, teams and API tokens against the memory layers,
 * with the memory `Transactions` that undoes their writes when a transaction fails.
 */
import { Layer } from "effect"
import { ApiTokens, People, Sessions, Storage, Teams } from "../src/index.ts"
import { ApiTokensContract, PeopleContract, SessionsContract, TeamsContract } from "./contracts/index.ts"

const directory = () =>
  Layer.mergeAll(Teams.layerMemory, ApiTokens.layerMemory, Storage.layerMemory).pipe(Layer.provideMerge(People.layerMemory))

PeopleContract.suite("memory", () => People.layerMemory)
SessionsContract.suite("memory", () => Sessions.layerMemory)
TeamsContract.suite("memory", directory)
ApiTokensContract.suite("memory", directory)
