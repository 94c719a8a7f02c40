// cli.test.ts again on `sealtrail serve --store postgres://…` (issue 5): the demo, the admin key
// shown once and kept in the database, graceful shutdown with a final checkpoint, and the offline
// `verify` / `keys` / `query` with --store.
process.env.SEALTRAIL_E2E_STORE = "postgres";
await import("./cli.test.ts");
