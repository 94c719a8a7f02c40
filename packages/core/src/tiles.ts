import { InputError, VerificationError } from "./errors.js";
import type { Hash, NodeReader, NodeRef } from "./merkle.js";
import { hashChildren } from "./merkle.js";

/** C2SP tlog-tiles: tiles are 2^8 hashes wide; tile level L stores tree height 8·L. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** A tile or entry bundle: level (or "entries"), index N, width W (1..256). */
export interface TileRef {
  readonly level: number | "entries";
  readonly index: number;
  readonly width: number;
}

/** How many hashes tile level L holds for a tree of `treeSize` leaves. */
export function storedCountAt(level: number, treeSize: number): number {
  return Math.floor(treeSize / TILE_WIDTH ** level);
}

/**
 * C2SP tlog-tiles path of a tile: `tile/<L>/<N>[.p/<W>]`, N in 3-digit groups with every group
 * but the last prefixed by `x` (e.g. 1234067 → x001/x234/067).
 */
export function tilePath(tile: TileRef): string {
  const level = tile.level === "entries" ? "entries" : String(tile.level);
  const partial = tile.width < TILE_WIDTH ? `.p/${tile.width}` : "";
  return `tile/${level}/${encodeTileIndex(tile.index)}${partial}`;
}

export function encodeTileIndex(index: number): string {
  let digits = String(index);
  const groups: string[] = [];
  while (digits.length > 3) {
    groups.unshift(digits.slice(-3));
    digits = digits.slice(0, -3);
  }
  groups.unshift(digits.padStart(3, "0"));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** Parses the part after `tile/`; refuses every non-canonical spelling so each tile has one URL. */
export function parseTilePath(path: string): TileRef {
  const match = /^(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!match) throw new InputError("invalid_tile_path", "not a tile path");
  const [, levelText, indexText, widthText] = match as unknown as [string, string, string, string | undefined];
  const groups = indexText.split("/");
  if (groups.length > 1 && groups[0] === "x000") throw new InputError("invalid_tile_path", "non-canonical tile index");
  const index = Number(groups.map((g) => g.replace("x", "")).join(""));
  if (!Number.isSafeInteger(index)) throw new InputError("invalid_tile_path", "tile index too large");
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (widthText !== undefined && (width < 1 || width >= TILE_WIDTH))
    throw new InputError("invalid_tile_path", "partial width must be 1..255");
  const level = levelText === "entries" ? "entries" : Number(levelText);
  if (typeof level === "number" && level > 63) throw new InputError("invalid_tile_path", "tile level too large");
  return { level, index, width };
}

/**
 * Whether a tile exists for a tree of `treeSize`: a full tile once its 256 hashes exist, a
 * partial tile of width W while at least W hashes of it exist (any prefix of a tile is a valid
 * partial tile of an earlier tree, which is what clients holding an older checkpoint ask for).
 */
export function tileExists(tile: TileRef, treeSize: number): boolean {
  const level = tile.level === "entries" ? 0 : tile.level;
  const available = storedCountAt(level, treeSize) - tile.index * TILE_WIDTH;
  return available >= tile.width && tile.width >= 1;
}

/**
 * Reads stored hashes at one tile level: `count` hashes starting at `start`. Level 0 holds leaf
 * hashes; level L holds hashes of the perfect subtrees of height 8·L.
 */
export type StoredHashReader = (level: number, start: number, count: number) => Promise<Hash[]>;

/**
 * Serves any perfect-subtree hash from tile-level hashes: node (h, i) is rebuilt from the
 * 2^(h mod 8) stored hashes below it at level ⌊h/8⌋ (at most 128 hashes, as in tlog-tiles).
 */
export function createTileNodeReader(readStored: StoredHashReader): NodeReader {
  return async (nodes: readonly NodeRef[]) =>
    Promise.all(
      nodes.map(async (node) => {
        const level = Math.floor(node.height / TILE_HEIGHT);
        const extra = node.height - level * TILE_HEIGHT;
        const count = 2 ** extra;
        const stored = await readStored(level, node.index * count, count);
        if (stored.length !== count) {
          throw new VerificationError("missing_node", `stored hashes for node ${node.height}/${node.index} are missing`);
        }
        return reducePerfect(stored);
      }),
    );
}

/** Hashes a power-of-two run of sibling hashes up to their single parent. */
export function reducePerfect(hashes: readonly Hash[]): Hash {
  let level = [...hashes];
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashChildren(level[i] as Hash, level[i + 1] as Hash));
    level = next;
  }
  return level[0] as Hash;
}

/** Concatenated tile bytes → hashes; refuses a length that is not a whole number of hashes. */
export function splitTile(bytes: Uint8Array, expectedWidth: number): Hash[] {
  if (bytes.length !== expectedWidth * 32) {
    throw new VerificationError("invalid_tile", `tile has ${bytes.length} bytes, expected ${expectedWidth * 32}`);
  }
  const hashes: Hash[] = [];
  for (let i = 0; i < bytes.length; i += 32) hashes.push(bytes.slice(i, i + 32));
  return hashes;
}

/** C2SP tlog-tiles entry bundle: each entry as a big-endian uint16 length and its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const entry of entries) {
    if (entry.length > 0xffff) throw new InputError("entry_too_large", "an entry is longer than 65535 bytes");
    length += 2 + entry.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const entry of entries) {
    out[offset] = entry.length >> 8;
    out[offset + 1] = entry.length & 0xff;
    out.set(entry, offset + 2);
    offset += 2 + entry.length;
  }
  return out;
}

export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) throw new VerificationError("invalid_bundle", "truncated entry length");
    const length = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
    if (offset + 2 + length > bytes.length) throw new VerificationError("invalid_bundle", "truncated entry");
    entries.push(bytes.slice(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return entries;
}
