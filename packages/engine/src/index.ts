export * from "./audit.js";
export * from "./engine.js";
export * from "./queries.js";
export * from "./store.js";
export * from "./leaf-fields.js";
