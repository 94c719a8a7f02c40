const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp and returns it in UTC as `YYYY-MM-DDTHH:MM:SS.sss…Z`, keeping every
 * fractional digit given (at least 3). One spelling per instant keeps stored events comparable.
 * Returns undefined when the text is not a real RFC 3339 instant.
 */
export function normalizeTimestamp(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = (m[7] ?? "").padEnd(3, "0");
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Not Date.UTC: it reads years 0..99 as 1900..1999.
  const check = new Date(Date.UTC(2000, 0, 1, hour, minute, second));
  check.setUTCFullYear(year, month - 1, day);
  const base = check.getTime();
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || year < 1) return undefined;
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(base - offsetMinutes * 60_000);
  const y = utc.getUTCFullYear();
  if (y < 1 || y > 9999) return undefined;
  const iso = utc.toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

/** The current time as the server stamps `receivedAt`. */
export function nowTimestamp(now: number = Date.now()): string {
  return new Date(now).toISOString();
}
