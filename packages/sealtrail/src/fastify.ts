export * from "@sealtrail/middleware/fastify";
