import { ConfigError, isIpAddress } from "@sealtrail/core";

/**
 * Which peers may speak for the client through `X-Forwarded-For`: `false` (default: nobody, the
 * socket address is the client), `true` (every hop: only behind a proxy that strips the header),
 * a number of trusted hops, a list of addresses and CIDR ranges, or a predicate.
 */
export type TrustProxy = boolean | number | readonly string[] | ((address: string) => boolean);

type Range = { readonly v6: boolean; readonly base: bigint; readonly bits: number };

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
}

function parseIPv6(text: string): bigint | undefined {
  let body = text.split("%")[0] as string;
  let tail: bigint[] = [];
  if (body.includes(".")) {
    // RFC 4291 §2.2 form 3: the low 32 bits written as dotted IPv4.
    const at = body.lastIndexOf(":");
    const v4 = parseIPv4(body.slice(at + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    body = body.slice(0, at);
    if (body.endsWith(":")) body += ":";
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const toGroups = (h: string) => (h === "" ? [] : h.split(":"));
  const [head, rest] = [toGroups(halves[0] as string), halves.length === 2 ? toGroups(halves[1] as string) : []];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const groups = [...head.map((g) => BigInt(`0x${g}`)), ...Array(8 - known).fill(0n), ...rest.map((g) => BigInt(`0x${g}`)), ...tail];
  return groups.reduce((n, g) => (n << 16n) | g, 0n);
}

/** An address as a number in its family; IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) counts as IPv4. */
function toNumber(address: string): { v6: boolean; value: bigint } | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return { v6: false, value: v4 };
  const v6 = parseIPv6(address);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffffffffn };
  return { v6: true, value: v6 };
}

/** `::ffff:203.0.113.9` (how Node reports IPv4 peers on a dual-stack socket) becomes `203.0.113.9`. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}

function parseRange(text: string): Range {
  const [address, prefix] = text.split("/");
  const parsed = toNumber(address ?? "");
  const width = parsed?.v6 ? 128 : 32;
  const bits = prefix === undefined ? width : Number(prefix);
  if (!parsed || !Number.isInteger(bits) || bits < 0 || bits > width || (prefix !== undefined && !/^\d+$/.test(prefix))) {
    throw new ConfigError("invalid_trust_proxy", `trustProxy: ${text} is not an IP address or CIDR range`);
  }
  const shift = BigInt(width - bits);
  return { v6: parsed.v6, base: (parsed.value >> shift) << shift, bits };
}

/** Compiles a `TrustProxy` setting into "is this hop trusted?" (hop 0 is the socket peer). */
export function compileTrust(setting: TrustProxy | undefined): (address: string, hop: number) => boolean {
  if (setting === undefined || setting === false) return () => false;
  if (setting === true) return () => true;
  if (typeof setting === "number") {
    if (!Number.isInteger(setting) || setting < 0)
      throw new ConfigError("invalid_trust_proxy", "trustProxy: a hop count is a whole number ≥ 0");
    return (_address, hop) => hop < setting;
  }
  if (typeof setting === "function") return (address) => setting(address);
  const ranges = setting.map(parseRange);
  return (address) => {
    const parsed = toNumber(address);
    if (!parsed) return false;
    return ranges.some((r) => {
      if (r.v6 !== parsed.v6) return false;
      const shift = BigInt((r.v6 ? 128 : 32) - r.bits);
      return (parsed.value >> shift) << shift === r.base;
    });
  };
}

/**
 * The client's address: the socket peer, unless the peer is a trusted proxy, in which case
 * X-Forwarded-For is read from the right (the entry the trusted proxy appended) leftwards,
 * stopping at the first untrusted address. Entries further left were written by the client and
 * are never believed. A malformed entry stops the walk at the last address known good.
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: (address: string, hop: number) => boolean,
): string | undefined {
  if (peer === undefined) return undefined;
  let current = normalizeAddress(peer);
  if (!isIpAddress(current)) return undefined;
  if (!forwardedFor) return current;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  for (let hop = 0; trusted(current, hop) && hops.length > 0; hop++) {
    const next = normalizeAddress(hops.pop() as string);
    if (!isIpAddress(next)) break;
    current = next;
  }
  return current;
}
