/**
 * How much JavaScript each screen loads when it is the first page opened (a link from a
 * notification, the Action's release link), gzip-compressed as the server sends it: the entry,
 * the screen's own chunk, the frame of signed-in screens, and everything they import statically,
 * each file counted once. Read from the build's manifest (`dist/.vite/manifest.json`); code a
 * screen loads later (a dialog, the team menu) is not counted. `pnpm exec node
 * adapters/dashboard/build/FirstLoad.ts` prints the table.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import { distDirectory } from "./index.ts"

interface Chunk {
  readonly file: string
  readonly imports?: ReadonlyArray<string>
  readonly isEntry?: boolean
}

/**
 * Every screen of `App.tsx`'s routes, by the module it loads for it, and whether it sits in the
 * frame of signed-in screens. Any of them can be the first page opened (the Action's and the
 * CLI's release link, a notification, an invitation, a bookmark), so the 200 KB budget holds for
 * each (test/FirstLoad.test.ts).
 */
export const screens: ReadonlyArray<{ readonly name: string; readonly module: string; readonly signedIn: boolean }> = [
  { name: "sign in", module: "src/account/LoginScreen.tsx", signedIn: false },
  { name: "sign up", module: "src/account/SignupScreen.tsx", signedIn: false },
  { name: "invitation", module: "src/account/InvitationScreen.tsx", signedIn: true },
  { name: "new team", module: "src/account/NewTeamScreen.tsx", signedIn: true },
  { name: "home", module: "src/account/HomeScreen.tsx", signedIn: true },
  { name: "overview", module: "src/overview/OverviewScreen.tsx", signedIn: true },
  { name: "release page", module: "src/release/ReleaseScreen.tsx", signedIn: true },
  { name: "new release", module: "src/releases/NewReleaseScreen.tsx", signedIn: true },
  { name: "plans", module: "src/plans/PlansScreen.tsx", signedIn: true },
  { name: "settings", module: "src/settings/SettingsScreen.tsx", signedIn: true },
  { name: "audit log", module: "src/audit/AuditScreen.tsx", signedIn: true },
  { name: "your account", module: "src/me/AccountScreen.tsx", signedIn: true }
]

export interface FirstLoad {
  readonly name: string
  readonly files: number
  readonly gzipBytes: number
}

export const measure = (directory: string = distDirectory): ReadonlyArray<FirstLoad> => {
  const manifest = JSON.parse(fs.readFileSync(path.join(directory, ".vite", "manifest.json"), "utf8")) as Record<string, Chunk>
  const gzipped = new Map<string, number>()
  const sizeOf = (file: string) => {
    if (!gzipped.has(file)) gzipped.set(file, gzipSync(fs.readFileSync(path.join(directory, file))).length)
    return gzipped.get(file)!
  }
  const collect = (key: string, into: Set<string>) => {
    const chunk = manifest[key]
    if (chunk === undefined) throw new Error(`${key} is not in the build's manifest`)
    if (into.has(chunk.file)) return
    into.add(chunk.file)
    for (const imported of chunk.imports ?? []) collect(imported, into)
  }
  const entry = Object.keys(manifest).find((key) => manifest[key]!.isEntry === true)!
  return screens.map((screen) => {
    const files = new Set<string>()
    collect(entry, files)
    if (screen.signedIn) collect("src/Shell.tsx", files)
    collect(screen.module, files)
    return { name: screen.name, files: files.size, gzipBytes: [...files].reduce((sum, file) => sum + sizeOf(file), 0) }
  })
}

if (import.meta.main) {
  for (const load of measure()) console.log(`${load.name.padEnd(14)} ${(load.gzipBytes / 1024).toFixed(1).padStart(6)} KB gzip in ${load.files} files`)
}
