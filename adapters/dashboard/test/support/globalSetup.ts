/**
 * Vitest global setup: the dashboard's build, made now when it is missing or stale; and the
 * browser, unpacked now. `@sparticuz/chromium` unpacks its binary to the temporary directory on
 * first use and takes an existing file there as unpacked: test files launching at once would race,
 * and one could start the binary while another still writes it (`spawn ETXTBSY`).
 */
import chromium from "@sparticuz/chromium"
import { ensureBuilt } from "../../build/index.ts"

export default async function setup() {
  await Promise.all([ensureBuilt(), chromium.executablePath()])
}
