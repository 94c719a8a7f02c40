export * from "@sealtrail/middleware/express";
