/** Crockford base32, as ULID uses it (no I, L, O, U). */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A monotonic ULID: 48-bit millisecond time then 80 random bits; within one millisecond the
 * random part increments, so ids made by one process sort in creation order.
 */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime && lastRandom.length === 16) {
    let i = 15;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i >= 0) lastRandom[i] = (lastRandom[i] as number) + 1;
  } else {
    lastTime = now;
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
    lastRandom = Array.from(bytes, (b) => b & 31);
  }
  let time = "";
  let t = Math.max(now, lastTime);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  return time + lastRandom.map((v) => ALPHABET[v]).join("");
}
