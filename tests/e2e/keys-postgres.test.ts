// keys.test.ts again on `sealtrail serve --store postgres://…` (issue 5): keys created and
// revoked through a running server or with `keys … --store` land in the shared database and its
// system log, which still verifies.
process.env.SEALTRAIL_E2E_STORE = "postgres";
await import("./keys.test.ts");
