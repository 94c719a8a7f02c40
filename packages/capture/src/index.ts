export { type DiffOptions, diffChanges, REDACTED, toJsonValue } from "./diff.js";
