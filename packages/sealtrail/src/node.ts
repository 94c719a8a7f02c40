export * from "@sealtrail/middleware/node";
