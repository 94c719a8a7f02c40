// crash.test.ts again on `sealtrail serve --store postgres://…` (issue 5): the server is killed
// with SIGKILL mid-ingest and restarted against the same database; every acknowledged event is
// there exactly once at its answered index and the log verifies (`verify --url` and `--store`).
process.env.SEALTRAIL_E2E_STORE = "postgres";
await import("./crash.test.ts");
