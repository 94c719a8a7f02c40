import { assertLogName, LOG_NAME_PATTERN, type QueryFilter, SealtrailError, StoreError } from "@sealtrail/core";
import {
  type ApiKeyRecord,
  type EventQuery,
  fieldsOfLeaf,
  type GroupCount,
  type KeyScope,
  type LogAppend,
  type LogStore,
  type LogSummary,
  type QueriedEntry,
  type QueryableStore,
  type RetentionStore,
  type StoredCheckpoint,
  type StoredEntry,
} from "@sealtrail/engine";
import { ensurePartitions, migrate } from "./migrate.js";
import { createPgPool, inTransaction, type PgPool, type PgQueryable } from "./pg-client.js";
import {
  checkPage,
  GROUP_KEYS,
  groupKey,
  keysOf,
  Params,
  pgText,
  probesWindow,
  probeWindow,
  readsTimeRange,
  resourceOf,
  type Scope,
  tsvectorOf,
  usesKeys,
  whereOf,
} from "./query-sql.js";
import { createPostgresRetention, sizeSql } from "./retention.js";
import { LOCK } from "./schema.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/db`: the primary, for everything that writes. */
  readonly connectionString: string;
  /** A read replica for queries (they may lag the primary by its replication delay). */
  readonly readConnectionString?: string;
  /** Connections to the primary (default 10) and to the replica (default: the same). */
  readonly poolSize?: number;
  readonly readPoolSize?: number;
  /**
   * Apply pending migrations on start (default true). A least-privilege role cannot: with false,
   * the store only checks that the schema is current.
   */
  readonly migrate?: boolean;
}

/** Over pools you made yourself (any object with node-postgres' `query` / `connect` / `end`). */
export interface PostgresPoolOptions {
  readonly pool: PgPool;
  readonly readPool?: PgPool;
  readonly description?: string;
  readonly migrate?: boolean;
}

export type PostgresStore = LogStore &
  QueryableStore &
  RetentionStore & {
    /** The primary pool (the cluster module shares it for staging). */
    readonly pool: PgPool;
  };

/** `postgres://user:secret@host/db` → `postgres://host/db`: descriptions never carry credentials. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    return parsed.toString();
  } catch {
    return "postgres://(unparseable url)";
  }
}

/** A PostgreSQL store (DESIGN §1): every LogStore method, queries included. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const config = Object.freeze({ poolSize: 10, migrate: true, ...options });
  const pool = await createPgPool(config.connectionString, config.poolSize, "sealtrail");
  const readPool =
    config.readConnectionString === undefined
      ? undefined
      : await createPgPool(config.readConnectionString, config.readPoolSize ?? config.poolSize, "sealtrail-read");
  try {
    return await openPostgresStore({
      pool,
      ...(readPool ? { readPool } : {}),
      description: redactUrl(config.connectionString),
      migrate: config.migrate,
    });
  } catch (error) {
    await pool.end();
    await readPool?.end();
    throw error;
  }
}

interface KeyRow {
  id: string;
  secret_hash: Buffer;
  scope: KeyScope;
  logs: string;
  label: string;
  created_at: string;
  revoked_at: string | null;
}

interface CheckpointRow {
  tree_size: number;
  root_hash: Buffer;
  note: string;
  created_at: string;
}

const bytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
const buffer = (data: Uint8Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

export async function openPostgresStore(options: PostgresPoolOptions): Promise<PostgresStore> {
  const { pool } = options;
  const reader = options.readPool ?? pool;
  const description = options.description ?? "postgres";
  try {
    await migrate(pool, { apply: options.migrate ?? true });
    if (options.migrate ?? true) {
      await ensurePartitions(pool, Date.now()).catch((error: { code?: string }) => {
        // 42501: the app role may not create tables. Rows of a month without its partition go to
        // the default partition until the owner's next start creates it.
        if (error.code !== "42501") throw error;
      });
    }
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError("store_failed", `postgres: cannot open ${description}: ${(cause as Error).message}`, { cause });
  }

  const logIds = new Map<string, number>();
  const logId = async (db: PgQueryable, name: string): Promise<number | undefined> => {
    const cached = logIds.get(name);
    if (cached !== undefined) return cached;
    // Not a log name (a hostile value, a NUL PostgreSQL text refuses): no such log.
    if (!LOG_NAME_PATTERN.test(name)) return undefined;
    const { rows } = await db.query<{ id: number }>("SELECT id FROM logs WHERE name = $1", [name]);
    if (rows[0]) logIds.set(name, rows[0].id);
    return rows[0]?.id;
  };
  const summaries = async (where: string, params: unknown[]): Promise<LogSummary[]> => {
    const { rows } = await pool.query<{ name: string; created_at: string; size: number }>(
      `SELECT l.name, l.created_at, ${sizeSql("l.id")} AS size
       FROM logs l ${where} ORDER BY l.name`,
      params,
    );
    return rows.map((r) => ({ name: r.name, size: r.size, createdAt: r.created_at }));
  };
  const toKey = (row: KeyRow): ApiKeyRecord => ({
    id: row.id,
    secretHash: bytes(row.secret_hash),
    scope: row.scope,
    logs: JSON.parse(row.logs) as string[],
    label: row.label,
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  });
  const toCheckpoint = (log: string, row: CheckpointRow): StoredCheckpoint => ({
    log,
    treeSize: row.tree_size,
    rootHash: bytes(row.root_hash),
    note: row.note,
    createdAt: row.created_at,
  });

  const guard = async <T>(what: string, fn: () => Promise<T>, passInput = false): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof StoreError || (passInput && cause instanceof SealtrailError)) throw cause;
      throw new StoreError("store_failed", `postgres: ${what} failed: ${(cause as Error).message}`, { cause });
    }
  };

  /**
   * One transaction whatever the number of logs, in a fixed number of statements: lock every log
   * (advisory, in name order, so two multi-log appends never wait on each other in a cycle), create
   * the new ones, check every size under the locks, then insert all entries, hashes and index rows.
   */
  const appendTx = async (db: PgQueryable, batches: readonly LogAppend[]): Promise<void> => {
    for (const batch of batches) assertLogName(batch.log);
    const names = [...new Set(batches.map((b) => b.log))].sort();
    await db.query("SELECT pg_advisory_xact_lock($1, hashtext(n)) FROM unnest($2::text[]) AS n ORDER BY n", [LOCK.log, names]);
    const ids = new Map<string, number>();
    const known = await db.query<{ id: number; name: string }>("SELECT id, name FROM logs WHERE name = ANY($1::text[])", [names]);
    for (const row of known.rows) ids.set(row.name, row.id);
    const missing = names.filter((name) => !ids.has(name));
    if (missing.length > 0) {
      const created = await db.query<{ id: number; name: string }>(
        "INSERT INTO logs (name, created_at) SELECT n, $2 FROM unnest($1::text[]) AS n ORDER BY n RETURNING id, name",
        [missing, new Date().toISOString()],
      );
      for (const row of created.rows) ids.set(row.name, row.id);
    }
    for (const [name, id] of ids) logIds.set(name, id);
    const sizes = new Map<number, number>();
    const measured = await db.query<{ id: number; size: number }>(
      `SELECT l.id, ${sizeSql("l.id")} AS size FROM unnest($1::int[]) AS l (id)`,
      [[...ids.values()]],
    );
    for (const row of measured.rows) sizes.set(row.id, row.size);
    const entries: { id: number; entry: LogAppend["entries"][number] }[] = [];
    const hashes: { id: number; hash: LogAppend["hashes"][number] }[] = [];
    const indexed: { id: number; batch: LogAppend }[] = [];
    for (const batch of batches) {
      const id = ids.get(batch.log) as number;
      const size = sizes.get(id) ?? 0;
      if (size !== batch.startIndex) {
        throw new StoreError("concurrent_writer", `log ${batch.log} has ${size} entries, the batch expected ${batch.startIndex}`);
      }
      batch.entries.forEach((entry, i) => {
        if (entry.index !== batch.startIndex + i) throw new StoreError("non_contiguous", `log ${batch.log}: entries are not contiguous`);
        entries.push({ id, entry });
      });
      for (const hash of batch.hashes) hashes.push({ id, hash });
      sizes.set(id, size + batch.entries.length);
      indexed.push({ id, batch });
    }
    if (entries.length > 0) {
      await db.query(
        "INSERT INTO entries (log_id, idx, event_id, leaf) SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::bytea[])",
        [
          entries.map((e) => e.id),
          entries.map((e) => e.entry.index),
          entries.map((e) => e.entry.id),
          entries.map((e) => buffer(e.entry.leaf)),
        ],
      );
    }
    if (hashes.length > 0) {
      await db.query(
        "INSERT INTO tree_hashes (log_id, level, idx, hash) SELECT * FROM unnest($1::int[], $2::smallint[], $3::bigint[], $4::bytea[])",
        [hashes.map((h) => h.id), hashes.map((h) => h.hash.level), hashes.map((h) => h.hash.index), hashes.map((h) => buffer(h.hash.hash))],
      );
    }
    await writeIndex(db, indexed);
  };

  const appendAll = async (batches: readonly LogAppend[]): Promise<void> => {
    try {
      await inTransaction(pool, (db) => appendTx(db, batches));
    } catch (error) {
      // A rolled-back transaction may have cached the id of a log it created.
      for (const batch of batches) logIds.delete(batch.log);
      if (error instanceof StoreError) throw error;
      const code = (error as { code?: string }).code;
      if (code === "23505")
        throw new StoreError("duplicate_entry", `postgres: append refused: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  };

  /** The ids of the named logs (undefined: every log), and those its keys are looked up in. */
  const scopeOf = async (names: readonly string[] | undefined, filter: QueryFilter): Promise<Scope> => {
    if (names === undefined) {
      if (!usesKeys(filter)) return { keyLogs: [] };
      const { rows } = await reader.query<{ id: number }>("SELECT id FROM logs");
      return { keyLogs: rows.map((r) => r.id) };
    }
    const valid = [...new Set(names.filter((name) => LOG_NAME_PATTERN.test(name)))];
    const { rows } = await reader.query<{ id: number }>("SELECT id FROM logs WHERE name = ANY($1::text[])", [valid]);
    const ids = rows.map((r) => r.id);
    return { logs: ids, keyLogs: ids };
  };

  const queryEvents = async (query: EventQuery): Promise<QueriedEntry[]> => {
    checkPage(query);
    const scope = await scopeOf(query.logs, query.filter);
    if (scope.logs?.length === 0) return [];
    const desc = query.order !== "asc";
    const dir = desc ? "DESC" : "ASC";
    const after = (p: Params): string => (query.after === undefined ? "" : ` AND ev.seq ${desc ? "<" : ">"} ${p.add(query.after)}`);
    /**
     * One page: the matching rows of `source` (default the whole query index), ordered and cut by
     * `plan` (given their SELECT). The page is chosen from the query index alone; only its `limit`
     * rows then read their leaves.
     */
    const page = async (
      plan: (hits: string, p: Params) => string,
      source: (p: Params) => string = () => "events",
    ): Promise<QueriedEntry[]> => {
      const p = new Params();
      const from = source(p);
      const hits = `SELECT ev.log_id, ev.seq, ev.idx FROM ${from} AS ev WHERE ${whereOf(query.filter, scope, p)}${after(p)}`;
      const { rows } = await reader.query<{ seq: number; name: string; idx: number; event_id: string; leaf: Buffer }>(
        `SELECT ev.seq, l.name, e.idx, e.event_id, e.leaf FROM (
           ${plan(hits, p)}
         ) AS ev
         JOIN entries AS e ON e.log_id = ev.log_id AND e.idx = ev.idx
         JOIN logs AS l ON l.id = ev.log_id
         ORDER BY ev.seq ${dir}`,
        p.values,
      );
      return rows.map((r) => ({ log: r.name, seq: r.seq, index: r.idx, id: r.event_id, leaf: bytes(r.leaf) }));
    };
    const ordered = (hits: string, p: Params): string => `${hits} ORDER BY ev.seq ${dir} LIMIT ${p.add(query.limit)}`;
    const [onlyLog] = scope.logs ?? [];
    if (onlyLog !== undefined && probesWindow(query.filter, scope)) {
      // The log's next probeWindow(limit) events in page order, filtered: `limit` matches among
      // them are the page (every other match comes after all of them); fewer, and the full query
      // answers. Free text in one log only: see probesWindow.
      const probed = await page(
        ordered,
        (p) =>
          `(SELECT * FROM events AS ev WHERE ev.log_id = ${p.add(onlyLog)}${after(p)} ORDER BY ev.seq ${dir} LIMIT ${p.add(probeWindow(query.limit))})`,
      );
      if (probed.length === query.limit) return probed;
    }
    // A time range far back is read whole and sorted (MATERIALIZED keeps the planner from turning
    // it back into a walk of seq): see readsTimeRange.
    if (desc && readsTimeRange(query.filter, Date.now()))
      return page(
        (hits, p) => `WITH hits AS MATERIALIZED (${hits}) SELECT * FROM hits AS ev ORDER BY ev.seq DESC LIMIT ${p.add(query.limit)}`,
      );
    return page(ordered);
  };

  const countEvents = async (query: Pick<EventQuery, "logs" | "filter">): Promise<number> => {
    const scope = await scopeOf(query.logs, query.filter);
    if (scope.logs?.length === 0) return 0;
    const p = new Params();
    const { rows } = await reader.query<{ n: number }>(
      `SELECT count(*) AS n FROM events AS ev WHERE ${whereOf(query.filter, scope, p)}`,
      p.values,
    );
    return rows[0]?.n ?? 0;
  };

  const groupEvents: QueryableStore["groupEvents"] = async (query) => {
    const scope = await scopeOf(query.logs, query.filter);
    if (scope.logs?.length === 0) return [];
    const p = new Params();
    const { rows } = await reader.query<{ k: string | number; n: number }>(
      `SELECT ${GROUP_KEYS[query.groupBy]} AS k, count(*) AS n FROM events AS ev WHERE ${whereOf(query.filter, scope, p)} GROUP BY 1`,
      p.values,
    );
    const groups: GroupCount[] = rows.map((r) => ({ key: groupKey(query.groupBy, r.k), count: r.n }));
    const byKey = (a: GroupCount, b: GroupCount): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const limit = Math.max(0, query.limit);
    if (query.groupBy === "hour" || query.groupBy === "day") return groups.sort(byKey).slice(Math.max(0, groups.length - limit));
    return groups.sort((a, b) => b.count - a.count || byKey(a, b)).slice(0, limit);
  };

  const retention = createPostgresRetention(pool, { logId, guard });
  let closed = false;
  return Object.freeze({
    ...retention,
    description,
    pool,
    listLogs: () => guard("listLogs", () => summaries("", [])),
    getLog: (name: string) =>
      guard("getLog", async () => (LOG_NAME_PATTERN.test(name) ? (await summaries("WHERE l.name = $1", [name]))[0] : undefined)),
    append: (batches: readonly LogAppend[]) => guard("append", () => appendAll(batches)),
    findEntriesById: (log: string, ids: readonly string[]) =>
      guard("findEntriesById", async () => {
        const id = await logId(pool, log);
        if (id === undefined || ids.length === 0) return [];
        const { rows } = await pool.query<{ idx: number; event_id: string; leaf: Buffer }>(
          "SELECT idx, event_id, leaf FROM entries WHERE log_id = $1 AND event_id = ANY($2::text[])",
          [id, [...new Set(ids)].map(pgText)],
        );
        return rows.map((r): StoredEntry => ({ index: r.idx, id: r.event_id, leaf: bytes(r.leaf) }));
      }),
    readEntries: (log: string, start: number, count: number) =>
      guard("readEntries", async () => {
        const id = await logId(pool, log);
        const from = Math.ceil(Math.max(start, 0));
        const to = Math.ceil(Math.min(start + count, Number.MAX_SAFE_INTEGER));
        if (id === undefined || !(to > from)) return [];
        const { rows } = await pool.query<{ idx: number; event_id: string; leaf: Buffer }>(
          "SELECT idx, event_id, leaf FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
          [id, from, to],
        );
        return rows.map((r): StoredEntry => ({ index: r.idx, id: r.event_id, leaf: bytes(r.leaf) }));
      }),
    readHashes: (log: string, level: number, start: number, count: number) =>
      guard("readHashes", async () => {
        const id = await logId(pool, log);
        if (id === undefined || count <= 0) return [];
        const { rows } = await pool.query<{ hash: Buffer }>(
          "SELECT hash FROM tree_hashes WHERE log_id = $1 AND level = $2 AND idx >= $3 AND idx < $4 ORDER BY idx",
          [id, level, start, start + count],
        );
        return rows.map((r) => bytes(r.hash));
      }),
    appendCheckpoint: (checkpoint: StoredCheckpoint) =>
      guard("appendCheckpoint", () =>
        inTransaction(pool, async (db) => {
          const id = await logId(db, checkpoint.log);
          if (id === undefined) throw new StoreError("log_not_found", `log ${checkpoint.log} does not exist`);
          await db.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK.checkpoint, id]);
          const { rows } = await db.query<{ n: number }>("SELECT max(tree_size) AS n FROM checkpoints WHERE log_id = $1", [id]);
          const latest = rows[0]?.n;
          if (latest !== null && latest !== undefined && latest >= checkpoint.treeSize) {
            throw new StoreError("checkpoint_rollback", `log ${checkpoint.log} already has a checkpoint of size ${latest}`);
          }
          await db.query("INSERT INTO checkpoints (log_id, tree_size, root_hash, note, created_at) VALUES ($1, $2, $3, $4, $5)", [
            id,
            checkpoint.treeSize,
            buffer(checkpoint.rootHash),
            checkpoint.note,
            checkpoint.createdAt,
          ]);
        }),
      ),
    latestCheckpoint: (log: string) =>
      guard("latestCheckpoint", async () => {
        const id = await logId(pool, log);
        if (id === undefined) return undefined;
        const { rows } = await pool.query<CheckpointRow>(
          "SELECT tree_size, root_hash, note, created_at FROM checkpoints WHERE log_id = $1 ORDER BY tree_size DESC LIMIT 1",
          [id],
        );
        return rows[0] ? toCheckpoint(log, rows[0]) : undefined;
      }),
    listCheckpoints: (log: string, opts: { afterSize?: number; limit?: number } = {}) =>
      guard("listCheckpoints", async () => {
        const id = await logId(pool, log);
        if (id === undefined) return [];
        const { rows } = await pool.query<CheckpointRow>(
          "SELECT tree_size, root_hash, note, created_at FROM checkpoints WHERE log_id = $1 AND tree_size > $2 ORDER BY tree_size LIMIT $3",
          [id, opts.afterSize ?? -1, opts.limit ?? 1000],
        );
        return rows.map((r) => toCheckpoint(log, r));
      }),
    insertApiKey: (key: ApiKeyRecord) =>
      guard("insertApiKey", async () => {
        await pool.query("INSERT INTO api_keys (id, secret_hash, scope, logs, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)", [
          key.id,
          buffer(key.secretHash),
          key.scope,
          JSON.stringify(key.logs),
          pgText(key.label),
          key.createdAt,
        ]);
      }),
    findApiKey: (id: string) =>
      guard("findApiKey", async () => {
        const { rows } = await pool.query<KeyRow>("SELECT * FROM api_keys WHERE id = $1", [pgText(id)]);
        return rows[0] ? toKey(rows[0]) : undefined;
      }),
    listApiKeys: () =>
      guard("listApiKeys", async () => (await pool.query<KeyRow>("SELECT * FROM api_keys ORDER BY created_at, id")).rows.map(toKey)),
    revokeApiKey: (id: string, at: string) =>
      guard("revokeApiKey", async () => {
        const result = await pool.query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", [at, pgText(id)]);
        return (result.rowCount ?? 0) > 0;
      }),
    queryEvents: (query: EventQuery) => guard("queryEvents", () => queryEvents(query), true),
    countEvents: (query: Pick<EventQuery, "logs" | "filter">) => guard("countEvents", () => countEvents(query), true),
    groupEvents: (query: Parameters<QueryableStore["groupEvents"]>[0]) => guard("groupEvents", () => groupEvents(query), true),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
      if (options.readPool && options.readPool !== pool) await options.readPool.end();
    },
  });
}

/**
 * The query index rows of appended entries, in the append's transaction. `seq` comes from the
 * `query_state` counter: its row lock, taken after every log lock, is held to commit, so seq
 * order is commit order across logs (what page cursors rely on).
 */
async function writeIndex(db: PgQueryable, indexed: readonly { id: number; batch: LogAppend }[]): Promise<void> {
  const rows: { logId: number; index: number; fields: NonNullable<ReturnType<typeof fieldsOfLeaf>> }[] = [];
  for (const { id, batch } of indexed) {
    for (const entry of batch.entries) {
      const fields = entry.fields ?? fieldsOfLeaf(entry.leaf);
      if (fields) rows.push({ logId: id, index: entry.index, fields });
    }
  }
  if (rows.length === 0) return;
  const { rows: state } = await db.query<{ first: number }>(
    "UPDATE query_state SET next_seq = next_seq + $1 WHERE id = 1 RETURNING next_seq - $1 AS first",
    [rows.length],
  );
  const first = (state[0] as { first: number }).first;
  const column = <T>(of: (row: (typeof rows)[number], i: number) => T): T[] => rows.map(of);
  const opt = (value: string | undefined): string | null => (value === undefined ? null : pgText(value));
  await db.query(
    `INSERT INTO events (log_id, seq, idx, occurred_ms, received_ms, action, resource, actor_type, actor_id, outcome, ip, request_id,
       session_id, targets, keys, tsv)
     SELECT log_id, seq, idx, occurred_ms, received_ms, action, resource, actor_type, actor_id, outcome, ip, request_id, session_id,
       targets, array(SELECT json_array_elements_text(keys::json)), tsv::tsvector
     FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::text[], $16::text[])
       AS t (log_id, seq, idx, occurred_ms, received_ms, action, resource, actor_type, actor_id, outcome, ip, request_id, session_id,
         targets, keys, tsv)`,
    [
      column((r) => r.logId),
      column((_, i) => first + i),
      column((r) => r.index),
      column((r) => r.fields.occurredMs),
      column((r) => r.fields.receivedMs),
      column((r) => r.fields.action),
      column((r) => resourceOf(r.fields.action)),
      column((r) => pgText(r.fields.actorType)),
      column((r) => pgText(r.fields.actorId)),
      column((r) => r.fields.outcome),
      column((r) => opt(r.fields.ip)),
      column((r) => opt(r.fields.requestId)),
      column((r) => opt(r.fields.sessionId)),
      column((r) => r.fields.targets.length),
      column((r) => JSON.stringify(keysOf(r.logId, r.fields))),
      column((r) => tsvectorOf(r.logId, r.fields.text)),
    ],
  );
}
