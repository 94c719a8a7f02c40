export * from "./against.js";
export * from "./anchoring.js";
export * from "./sigv4.js";
export * from "./targets.js";
