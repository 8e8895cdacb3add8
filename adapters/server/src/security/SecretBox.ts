/**
 * The box moved to `@canaryroll/app` (packages/app/src/security/SecretBox.ts, over WebCrypto so
 * that it runs on every runtime, with the keys handed in); re-exported here, with where the Node
 * server finds its keys (`SecretKeyFile`: the environment or the key file in the data
 * directory), so that the server's imports keep working while they move over.
 *
 * @since 0.1.0
 */
export * from "@canaryroll/app/SecretBox"
export { defaultDataDirectory, type FileOptions, keyFileName, layerFromEnvOrFile } from "./SecretKeyFile.ts"
