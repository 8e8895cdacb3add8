import { NotificationStore } from "../src/index.ts"
import { NotificationStoreContract } from "./contracts/index.ts"

NotificationStoreContract.suite("memory", () => NotificationStore.layerMemory)
