// The verification-surface acceptance test (tiles-audit.test.ts: the independent auditor and Go's
// reference client, 1 to 71,234 entries) again, on `sealtrail serve --store postgres://…` over a
// throwaway PostgreSQL cluster (issue 5): the store may not change a byte of what is served.
process.env.SEALTRAIL_E2E_STORE = "postgres";
await import("./tiles-audit.test.ts");
