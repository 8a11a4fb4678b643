// Build the browser assets of the hub-extensions service.
//
// Output goes straight into the Python package (src/hub_extensions/static/dist/),
// which is gitignored and shipped in wheels/sdists as a hatch "artifact".
// File names are stable (no content hashes): the server templates reference
// e.g. `{static_url}dist/service-home.js` and do their own cache busting.
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** One entry per page that needs JavaScript: name -> source file. */
const entries: Record<string, string> = {
  "service-home": here("./src/service-home.tsx"),
  usage: here("./src/usage.tsx"),
  cost: here("./src/cost.tsx"),
  "profiles-form": here("./src/profiles-form.ts"),
  // loaded by profiles-form.js on first use, by URL (no bundler preload helper in the form)
  "build-panel": here("./src/builds/panel.ts"),
};

/** Size budget per entry chunk, gzipped. The build fails above it. */
const GZIP_BUDGET_BYTES = 10 * 1024;

function sizeBudget(limit: number): Plugin {
  return {
    name: "hub-extensions:size-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== "chunk") continue;
        const gz = gzipSync(file.code, { level: 9 }).length;
        if (gz > limit) {
          this.error(
            `${file.fileName} is ${gz} bytes gzipped, over the ${limit}-byte budget ` + "(see frontend/README.md)",
          );
        }
      }
    },
  };
}

export default defineConfig({
  root: here("."),
  // Relative base: nothing in the bundle may assume where JupyterHub mounts us.
  base: "./",
  publicDir: false,
  esbuild: {
    jsx: "automatic",
    jsxImportSource: "preact",
  },
  plugins: [sizeBudget(GZIP_BUDGET_BYTES)],
  build: {
    outDir: here("../src/hub_extensions/static/dist"),
    emptyOutDir: true,
    target: "es2020",
    minify: "esbuild",
    sourcemap: false,
    manifest: "manifest.json",
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: entries,
      // keep the exports of entries: profiles-form.js imports build-panel.js's at run time
      preserveEntrySignatures: "exports-only",
      output: {
        format: "es",
        entryFileNames: "[name].js",
        // rollup names a chunk after one of its modules; the one with the shared components
        // gets its folder's name, whichever module that is
        chunkFileNames: (chunk) =>
          chunk.moduleIds.some((id) => id.includes("/src/components/")) ? "chunks/components.js" : "chunks/[name].js",
        assetFileNames: "[name][extname]",
      },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
