export * from "./audit.js";
export * from "./engine.js";
export * from "./evidence.js";
export * from "./leaf-fields.js";
export * from "./queries.js";
export * from "./retention.js";
export * from "./sequencer.js";
export * from "./store.js";
