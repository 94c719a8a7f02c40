// tamper.test.ts again on `sealtrail serve --store postgres://…` (issue 5): rows changed by the
// database superuser after disabling the append-only triggers must fail `verify --store` and the
// restarted server exactly as on SQLite.
process.env.SEALTRAIL_E2E_STORE = "postgres";
await import("./tamper.test.ts");
