import { fromUtf8, utf8 } from "./bytes.js";
import { InputError, VerificationError } from "./errors.js";

/**
 * A deliberately tiny ZIP (APPNOTE 6.3.10) for evidence bundles: stored entries only (method 0, no
 * compression, no ZIP64, no extra fields, no comments) and fixed timestamps, so one set of files
 * has exactly one encoding. The reader accepts only that encoding: every header byte is either
 * checked against a constant, against its twin in the central directory, or covered by the CRC-32
 * of the data, so a changed byte anywhere in the archive is reported, naming where it is.
 */
export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Bounds for archives from untrusted sources (the whole archive is held in memory). */
export const ZIP_LIMITS = Object.freeze({ maxArchiveBytes: 1024 * 1024 * 1024, maxEntries: 65_535, maxNameBytes: 255 });

const LOCAL_SIGNATURE = 0x04034b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const END_SIGNATURE = 0x06054b50;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_RECORD = 22;
/** "Version needed to extract" 2.0: the lowest that allows directories in names (APPNOTE §4.4.3.2). */
const VERSION = 20;
/** MS-DOS date of 1980-01-01, the earliest a ZIP can express: bundles carry their time in the manifest. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as ZIP uses it (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checkName(name: string): Uint8Array {
  // Plain ASCII paths only: no UTF-8 flag to get wrong, no absolute paths, no "..", no backslashes.
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) || name.length > ZIP_LIMITS.maxNameBytes || name.split("/").includes("..")) {
    throw new InputError("invalid_zip_entry", `zip entry name ${JSON.stringify(name)} is not allowed`);
  }
  return utf8(name);
}

/** Writes stored (uncompressed) entries in the given order. */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  if (entries.length > ZIP_LIMITS.maxEntries)
    throw new InputError("invalid_zip_entry", `a zip holds at most ${ZIP_LIMITS.maxEntries} entries`);
  const names = entries.map((entry) => checkName(entry.name));
  if (new Set(entries.map((e) => e.name)).size !== entries.length) throw new InputError("invalid_zip_entry", "zip entry names repeat");
  let size = END_RECORD;
  entries.forEach((entry, i) => {
    size += LOCAL_HEADER + CENTRAL_HEADER + 2 * (names[i] as Uint8Array).length + entry.data.length;
  });
  if (size > ZIP_LIMITS.maxArchiveBytes) throw new InputError("invalid_zip_entry", "the archive would exceed the size limit");
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const offsets: number[] = [];
  const crcs: number[] = [];
  let at = 0;
  entries.forEach((entry, i) => {
    const name = names[i] as Uint8Array;
    const crc = crc32(entry.data);
    offsets.push(at);
    crcs.push(crc);
    view.setUint32(at, LOCAL_SIGNATURE, true);
    view.setUint16(at + 4, VERSION, true);
    view.setUint16(at + 6, 0, true); // flags: none (names are ASCII, so bit 11, UTF-8, is not needed)
    view.setUint16(at + 8, 0, true); // method: stored
    view.setUint16(at + 10, DOS_TIME, true);
    view.setUint16(at + 12, DOS_DATE, true);
    view.setUint32(at + 14, crc, true);
    view.setUint32(at + 18, entry.data.length, true);
    view.setUint32(at + 22, entry.data.length, true);
    view.setUint16(at + 26, name.length, true);
    view.setUint16(at + 28, 0, true);
    out.set(name, at + LOCAL_HEADER);
    out.set(entry.data, at + LOCAL_HEADER + name.length);
    at += LOCAL_HEADER + name.length + entry.data.length;
  });
  const centralStart = at;
  entries.forEach((entry, i) => {
    const name = names[i] as Uint8Array;
    view.setUint32(at, CENTRAL_SIGNATURE, true);
    view.setUint16(at + 4, VERSION, true); // made by: MS-DOS attributes, spec version 2.0
    view.setUint16(at + 6, VERSION, true);
    view.setUint16(at + 8, 0, true);
    view.setUint16(at + 10, 0, true);
    view.setUint16(at + 12, DOS_TIME, true);
    view.setUint16(at + 14, DOS_DATE, true);
    view.setUint32(at + 16, crcs[i] as number, true);
    view.setUint32(at + 20, entry.data.length, true);
    view.setUint32(at + 24, entry.data.length, true);
    view.setUint16(at + 28, name.length, true);
    // extra length, comment length, disk number, internal and external attributes: all zero.
    view.setUint32(at + 42, offsets[i] as number, true);
    out.set(name, at + CENTRAL_HEADER);
    at += CENTRAL_HEADER + name.length;
  });
  view.setUint32(at, END_SIGNATURE, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, at - centralStart, true);
  view.setUint32(at + 16, centralStart, true);
  return out;
}

/**
 * Reads an archive `writeZip` wrote, refusing anything else: other methods, flags, timestamps,
 * extra fields, comments, gaps or trailing bytes, local and central headers that disagree, or
 * data whose CRC-32 does not match. Errors are `malformed_zip` and name the byte offset and entry.
 */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  const fail = (where: string, what: string): never => {
    throw new VerificationError("malformed_zip", `zip ${where}: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) fail("archive", "not bytes");
  if (bytes.length > ZIP_LIMITS.maxArchiveBytes) fail("archive", `larger than ${ZIP_LIMITS.maxArchiveBytes} bytes`);
  if (bytes.length < END_RECORD) fail("archive", "too short to be a zip file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const expect = (where: string, field: string, actual: number, expected: number) => {
    if (actual !== expected) fail(where, `${field} is ${actual}, expected ${expected}`);
  };

  const end = bytes.length - END_RECORD;
  const endWhere = `end of central directory (byte ${end})`;
  expect(endWhere, "signature", u32(end), END_SIGNATURE);
  expect(endWhere, "disk number", u16(end + 4), 0);
  expect(endWhere, "central directory disk", u16(end + 6), 0);
  const count = u16(end + 8);
  expect(endWhere, "total entry count", u16(end + 10), count);
  const centralSize = u32(end + 12);
  const centralStart = u32(end + 16);
  expect(endWhere, "comment length", u16(end + 20), 0);
  expect(endWhere, "central directory end", centralStart + centralSize, end);

  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let local = 0;
  let central = centralStart;
  for (let i = 0; i < count; i++) {
    const cWhere = `central directory entry ${i} (byte ${central})`;
    if (central + CENTRAL_HEADER > end) fail(cWhere, "runs past the end of the central directory");
    expect(cWhere, "signature", u32(central), CENTRAL_SIGNATURE);
    expect(cWhere, "version made by", u16(central + 4), VERSION);
    expect(cWhere, "version needed", u16(central + 6), VERSION);
    expect(cWhere, "flags", u16(central + 8), 0);
    expect(cWhere, "compression method", u16(central + 10), 0);
    expect(cWhere, "time", u16(central + 12), DOS_TIME);
    expect(cWhere, "date", u16(central + 14), DOS_DATE);
    const crc = u32(central + 16);
    const size = u32(central + 20);
    expect(cWhere, "uncompressed size", u32(central + 24), size);
    const nameLength = u16(central + 28);
    if (nameLength === 0 || nameLength > ZIP_LIMITS.maxNameBytes) fail(cWhere, `name length ${nameLength} is out of range`);
    expect(cWhere, "extra field length", u16(central + 30), 0);
    expect(cWhere, "comment length", u16(central + 32), 0);
    expect(cWhere, "disk number", u16(central + 34), 0);
    expect(cWhere, "internal attributes", u16(central + 36), 0);
    expect(cWhere, "external attributes", u32(central + 38), 0);
    expect(cWhere, "local header offset", u32(central + 42), local);
    if (central + CENTRAL_HEADER + nameLength > end) fail(cWhere, "name runs past the end of the central directory");
    const nameBytes = bytes.subarray(central + CENTRAL_HEADER, central + CENTRAL_HEADER + nameLength);
    let name = "";
    try {
      name = fromUtf8(nameBytes);
      checkName(name);
    } catch {
      fail(cWhere, "name is not an allowed file name");
    }
    if (seen.has(name)) fail(cWhere, `name ${JSON.stringify(name)} repeats`);
    seen.add(name);
    central += CENTRAL_HEADER + nameLength;

    const lWhere = `local header of ${JSON.stringify(name)} (byte ${local})`;
    const dataStart = local + LOCAL_HEADER + nameLength;
    if (dataStart + size > centralStart) fail(lWhere, "entry runs into the central directory");
    expect(lWhere, "signature", u32(local), LOCAL_SIGNATURE);
    expect(lWhere, "version needed", u16(local + 4), VERSION);
    expect(lWhere, "flags", u16(local + 6), 0);
    expect(lWhere, "compression method", u16(local + 8), 0);
    expect(lWhere, "time", u16(local + 10), DOS_TIME);
    expect(lWhere, "date", u16(local + 12), DOS_DATE);
    expect(lWhere, "CRC-32", u32(local + 14), crc);
    expect(lWhere, "compressed size", u32(local + 18), size);
    expect(lWhere, "uncompressed size", u32(local + 22), size);
    expect(lWhere, "name length", u16(local + 26), nameLength);
    expect(lWhere, "extra field length", u16(local + 28), 0);
    const localName = bytes.subarray(local + LOCAL_HEADER, dataStart);
    for (let k = 0; k < nameLength; k++) {
      if (localName[k] !== nameBytes[k]) fail(lWhere, "name differs from the central directory's");
    }
    const data = bytes.subarray(dataStart, dataStart + size);
    if (crc32(data) !== crc) fail(`data of ${JSON.stringify(name)} (byte ${dataStart})`, "CRC-32 does not match: the file was altered");
    entries.push({ name, data });
    local = dataStart + size;
  }
  expect(endWhere, "central directory offset", centralStart, local);
  expect(endWhere, "central directory size", central, end);
  return entries;
}
