import { InputError } from "./errors.js";

/** DESIGN §2: log names are `[a-z0-9][a-z0-9._-]{0,62}`. */
export const LOG_NAME_PATTERN: RegExp = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function assertLogName(name: string): void {
  if (!LOG_NAME_PATTERN.test(name)) {
    throw new InputError(
      "invalid_log_name",
      "a log name is 1 to 63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
      { problems: [{ parameter: "log", detail: "must match [a-z0-9][a-z0-9._-]{0,62}" }] },
    );
  }
}

/** The checkpoint origin of a log (C2SP tlog-checkpoint): `<prefix>/<log>`. */
export function logOrigin(prefix: string, log: string): string {
  return `${prefix}/${log}`;
}
