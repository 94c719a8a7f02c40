export * from "@sealtrail/middleware/hono";
