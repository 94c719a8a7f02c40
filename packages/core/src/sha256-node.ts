import { createHash } from "node:crypto";

/** Node's native SHA-256; the package's `#sha256` import picks this under the "node" condition. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest().buffer, 0, 32);
}
