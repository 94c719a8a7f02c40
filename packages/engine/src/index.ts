export * from "./audit.js";
export * from "./data-dir.js";
export * from "./engine.js";
export * from "./queries.js";
export * from "./store.js";
