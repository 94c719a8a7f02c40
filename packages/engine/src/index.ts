export * from "./audit.js";
export * from "./engine.js";
export * from "./store.js";
