/**
 * The dashboard's build: one HTML page (`index.html`) and hashed files under `/static/` (the
 * server caches those forever). Screens are split by route (`React.lazy`), so the first load is
 * the shell, the API client and the screen asked for. `/static/`, not Vite's default `/assets/`:
 * the application's own pages already serve files there.
 */
import react from "@vitejs/plugin-react"
import { defineConfig } from "vite"

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "static",
    emptyOutDir: true,
    // What build/FirstLoad.ts reads to add up each screen's first load.
    manifest: true,
    // The first-load budget is checked by test/FirstLoad.test.ts on the built files.
    chunkSizeWarningLimit: 600,
    modulePreload: { polyfill: false }
  }
})
