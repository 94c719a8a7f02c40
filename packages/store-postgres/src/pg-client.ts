/**
 * The smallest structural view of a PostgreSQL client the store needs (the idea of Kysely's
 * dialects): node-postgres' `Pool` satisfies it, and so can any pool with the same two methods.
 * Nothing here imports `pg` types.
 */
export interface PgResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

export interface PgQueryable {
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<PgResult<R>>;
}

export interface PgPoolClient extends PgQueryable {
  /** Returns the connection to the pool; with an error, the pool discards it. */
  release(error?: Error | boolean): void;
}

export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
}

/** Runs `fn` in one transaction on one connection; rolls back and discards nothing on failure. */
export async function inTransaction<T>(pool: PgPool, fn: (client: PgQueryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollback) {
      broken = rollback as Error;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/** node-postgres pools with int8 and bigint results as numbers (our sizes stay below 2^53). */
export async function createPgPool(connectionString: string, max: number, applicationName: string): Promise<PgPool> {
  const { default: pg } = await import("pg");
  const types = {
    getTypeParser: (oid: number, format?: "text" | "binary") =>
      oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName, types } as never);
  // An idle connection the server drops (failover, restart) must not crash the process.
  pool.on("error", () => undefined);
  return pool as unknown as PgPool;
}
