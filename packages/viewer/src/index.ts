import { fileURLToPath } from "node:url";

/**
 * The directory holding the built web viewer (`vite build` writes it; `npm ci` runs the build
 * through the root `prepare` script). The same relative path works from `src/` and `dist/lib/`.
 */
export function viewerAssetsDir(): string {
  return fileURLToPath(new URL(import.meta.url.includes("/dist/lib/") ? "../public/" : "../dist/public/", import.meta.url));
}
