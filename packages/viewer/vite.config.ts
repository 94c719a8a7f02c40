import { defaultClientConditions, defineConfig } from "vite";

// One build, three entries: the console (`/`), the iframe page (`/embed`) and the web component
// under a stable name (`/sealtrail-viewer.js`) that other pages can include. Everything else is
// content-hashed under /assets/, which the server caches as immutable.
export default defineConfig({
  resolve: {
    // Bundle @sealtrail/core from its TypeScript sources: the viewer builds before or without its dist.
    conditions: ["source", ...defaultClientConditions],
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist/public",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: { console: "index.html", embed: "embed.html", "sealtrail-viewer": "src/ui/element.tsx" },
      output: {
        entryFileNames: (chunk) => (chunk.name === "sealtrail-viewer" ? "sealtrail-viewer.js" : "assets/[name]-[hash].js"),
      },
    },
  },
});
