import { type EventDraft, type FieldProblem, InputError, StoreError, ulid } from "@sealtrail/core";
import { type AppendedEvent, type EngineOptions, LogEngine, type LogStore, type Sequencer } from "@sealtrail/engine";
import { ensurePartitions } from "./migrate.js";
import { inTransaction } from "./pg-client.js";
import type { PostgresStore } from "./postgres-store.js";
import { LOCK } from "./schema.js";

/**
 * Many writers, one integrator (DESIGN §5, docs/deployment.md). Every instance accepts appends:
 * it validates them, gives each event without an id a fresh ULID, and stages the unit in the
 * `staged` table (committed, so durable, before anything else happens). Exactly one instance at a
 * time holds the integrator lease, a session advisory lock on a dedicated connection: it runs an
 * ordinary LogEngine over the store, feeds it staged units in staging order, then records each
 * unit's answer and deletes the unit in one transaction, and NOTIFYs. The accepting instance
 * answers its client from that record: the acknowledgement still carries final indexes.
 *
 * Failover: PostgreSQL releases the lock when the holder's connection ends (a killed process's
 * socket closes at once; a partitioned one's after TCP keepalive), and the others try for it every
 * `leaseRetryMs`. The new integrator re-derives the trees from the store (LogEngine.open). A unit
 * the dead one committed but did not answer is integrated again: every event has an id by then,
 * so the engine's idempotent retry gives back the indexes it already has; nothing is indexed twice.
 * A deposed integrator that still writes fails the store's size check (concurrent_writer): the
 * tree cannot fork. Checkpoints are signed by the integrator with the shared key.
 */
export interface PostgresClusterOptions {
  /** The store every instance uses (its pool carries staging too). */
  readonly store: PostgresStore;
  /** The primary again, for the one dedicated connection (lease and LISTEN) per instance. */
  readonly connectionString: string;
  /** What the integrating engine needs: signer (the same key on every instance), origin prefix, intervals. */
  readonly engine: Omit<EngineOptions, "store" | "sequencer">;
  /** How often an instance without the lease tries to take it (default 500 ms). */
  readonly leaseRetryMs?: number;
  /** Most staged units integrated per round (default 2000). */
  readonly batchUnits?: number;
  /** Told when this instance starts or stops integrating (for the server's log). */
  readonly onRoleChange?: (integrating: boolean) => void;
}

export interface PostgresCluster {
  /** The engine the server uses: appends are staged, reads follow the store. */
  readonly engine: LogEngine;
  /** True while this instance holds the integrator lease. */
  integrating(): boolean;
  /** Stops integrating (a final round and checkpoints first), releases the lease, closes the engine and store. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(result: UnitResult): void;
  reject(error: unknown): void;
}

type UnitResult =
  | { readonly ok: AppendedEvent[] }
  | { readonly error: { code: string; message: string; problems: readonly FieldProblem[] } };

interface DedicatedClient {
  connect(): Promise<void>;
  query<R>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  on(event: "notification", fn: (message: { channel: string; payload?: string }) => void): void;
  on(event: "error" | "end", fn: (error?: Error) => void): void;
  end(): Promise<void>;
}

const POLL_MS = 250;
/** How often the integrator does housekeeping (see `maintain`). */
const MAINTENANCE_MS = 10 * 60_000;
/** Answers nobody collected (the accepting instance died first) are kept this long for inspection. */
const ORPHAN_ANSWER_MS = 60 * 60_000;

export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const { store } = options;
  const pool = store.pool;
  const retryMs = options.leaseRetryMs ?? 500;
  const batchUnits = options.batchUnits ?? 2000;
  const waiters = new Map<number, Waiter>();
  let closed = false;

  /**
   * Notifications go out after the commit they announce, never inside it: a transaction that
   * NOTIFYs holds a global lock through its commit (WAL flush included), which would serialize
   * every staging and checkpoint commit of the cluster. Calls made while one is in flight are
   * coalesced into the next (payloads joined by newlines, within NOTIFY's 8000 bytes).
   */
  const notifier = (channel: string) => {
    let pending: Set<string> | undefined;
    let sending = false;
    const send = async (): Promise<void> => {
      sending = true;
      while (pending && !closed) {
        const payloads = [...pending];
        pending = undefined;
        const chunks: string[] = [];
        for (const payload of payloads) {
          const last = chunks.at(-1);
          if (last !== undefined && last.length + payload.length < 7000) chunks[chunks.length - 1] = `${last}\n${payload}`;
          else chunks.push(payload);
        }
        for (const chunk of chunks) await pool.query("SELECT pg_notify($1, $2)", [channel, chunk]).catch(() => undefined);
      }
      sending = false;
    };
    return (payload = ""): void => {
      pending ??= new Set();
      pending.add(payload);
      if (!sending) void send();
    };
  };
  const notifyStaged = notifier("sealtrail_staged");
  const notifyIntegrated = notifier("sealtrail_integrated");
  const notifyCheckpoint = notifier("sealtrail_checkpoint");

  // --- writer side: stage, then wait for the integrator's answer -----------------------------
  const collect = async (): Promise<void> => {
    if (waiters.size === 0) return;
    const ids = [...waiters.keys()];
    const { rows } = await pool.query<{ id: number; result: string }>(
      "SELECT id, result FROM staged_results WHERE id = ANY($1::bigint[])",
      [ids],
    );
    if (rows.length === 0) return;
    for (const row of rows) {
      const waiter = waiters.get(row.id);
      waiters.delete(row.id);
      waiter?.resolve(JSON.parse(row.result) as UnitResult);
    }
    // After answering: an answer left behind by a crash here is pruned by the integrator.
    await pool.query("DELETE FROM staged_results WHERE id = ANY($1::bigint[])", [rows.map((r) => r.id)]);
  };
  let collecting = false;
  let collectAgain = false;
  const collectSoon = (): void => {
    if (collecting) {
      collectAgain = true;
      return;
    }
    collecting = true;
    void (async () => {
      do {
        collectAgain = false;
        await collect().catch(() => undefined);
      } while (collectAgain);
      collecting = false;
    })();
  };
  // NOTIFY is the fast path; the poll covers a notification lost with a dropped connection.
  const poll = setInterval(collectSoon, POLL_MS);

  const sequencer: Sequencer = {
    async append(log: string, drafts: readonly EventDraft[], opts: { pointerBase?: string }): Promise<AppendedEvent[]> {
      if (closed) throw new StoreError("engine_closed", "the log engine is closed");
      // An id on every event before it is staged: integrating a unit twice (failover) is then an
      // idempotent retry, never a second copy.
      const generated = drafts.map((d) => d.id === undefined);
      const withIds = drafts.map((d) => (d.id === undefined ? { ...d, id: ulid() } : d));
      let id: number;
      // Client ids already stored now are retries. Any other reported as already stored was
      // stored from this very batch by an integrator that died before answering: still created.
      let before: Set<string>;
      try {
        const clientIds = drafts.flatMap((d) => (d.id === undefined ? [] : [d.id]));
        before = new Set(clientIds.length > 0 ? (await store.findEntriesById(log, clientIds)).map((e) => e.id) : []);
        const { rows } = await pool.query<{ id: number }>("INSERT INTO staged (log, drafts, pointers) VALUES ($1, $2, $3) RETURNING id", [
          log,
          JSON.stringify(withIds),
          opts.pointerBase ?? "",
        ]);
        id = (rows[0] as { id: number }).id;
        notifyStaged();
      } catch (cause) {
        throw new StoreError("store_write_failed", "the store could not stage the batch", { cause });
      }
      const result = await new Promise<UnitResult>((resolve, reject) => waiters.set(id, { resolve, reject }));
      if ("error" in result) {
        // Only a unit's own fault is answered as an error (integrateRound): rebuilt as the InputError it was.
        const { code, message, problems } = result.error;
        throw new InputError(code, message, { problems });
      }
      const first = new Set<string>();
      return result.ok.map((r, i) => {
        const isFirst = !first.has(r.id);
        first.add(r.id);
        return { ...r, created: r.created || generated[i] === true || (isFirst && !before.has(r.id)) };
      });
    },
  };

  const engine = await LogEngine.open({ ...options.engine, store, sequencer });

  // --- follower side: reload a log when another process (or our own integrator) changed it ---
  const reloads = new Map<string, { again: boolean }>();
  const reloadSoon = (log: string): void => {
    const running = reloads.get(log);
    if (running) {
      running.again = true;
      return;
    }
    const entry = { again: false };
    reloads.set(log, entry);
    void (async () => {
      do {
        entry.again = false;
        await engine.reload(log).catch(() => undefined);
      } while (entry.again && !closed);
      reloads.delete(log);
    })();
  };

  // --- integrator side ---------------------------------------------------------------------
  let leader: LogEngine | undefined;
  let wake: (() => void) | undefined;
  /** Set by a staging notification, so one that arrives during a round is not lost. */
  let staged = false;
  let leading: Promise<void> | undefined;
  // The integrating engine must not close the shared store when it steps down, and every
  // instance hears of its checkpoints (a notification lost with a dying integrator is made good
  // by its successor, which announces every log when it takes over).
  const leaderStore: LogStore = {
    ...store,
    appendCheckpoint: async (checkpoint) => {
      await store.appendCheckpoint(checkpoint);
      notifyCheckpoint(checkpoint.log);
    },
    close: async () => undefined,
  };

  /** Units integrated whose answers are being recorded: the next round must not take them again. */
  const recording = new Set<number>();
  let recorded: Promise<void> = Promise.resolve();
  const record = async (answered: readonly { id: number; result: string }[]): Promise<void> => {
    try {
      await inTransaction(pool, async (db) => {
        await db.query("INSERT INTO staged_results (id, result) SELECT * FROM unnest($1::bigint[], $2::text[])", [
          answered.map((a) => a.id),
          answered.map((a) => a.result),
        ]);
        await db.query("DELETE FROM staged WHERE id = ANY($1::bigint[])", [answered.map((a) => a.id)]);
      });
      notifyIntegrated();
    } finally {
      // Recorded, or failed: then the units are still staged and the next round retries them.
      for (const a of answered) recording.delete(a.id);
    }
  };

  /**
   * One round: the staged units not already in hand, appended together (one store transaction).
   * Their answers are recorded while the next round appends: two commits in flight, not in a row.
   */
  const integrateRound = async (current: LogEngine): Promise<number> => {
    const { rows } = await pool.query<{ id: number; log: string; drafts: string; pointers: string }>(
      "SELECT id, log, drafts, pointers FROM staged WHERE id <> ALL($2::bigint[]) ORDER BY id LIMIT $1",
      [batchUnits, [...recording]],
    );
    if (rows.length === 0) return 0;
    // Issued in one turn of the event loop, so the engine commits them together (group commit).
    const outcomes = await Promise.all(
      rows.map((row) =>
        current.append(row.log, JSON.parse(row.drafts) as unknown[], row.pointers ? { pointerBase: row.pointers } : {}).then(
          (ok): UnitResult => ({ ok }),
          (error: unknown): UnitResult | Error => {
            // The unit itself is at fault (a conflicting id): that is its answer. Anything else
            // (the store, a lost lease) leaves it staged for the next round or the next integrator.
            if (error instanceof InputError) return { error: { code: error.code, message: error.message, problems: error.problems } };
            return error instanceof Error ? error : new Error(String(error));
          },
        ),
      ),
    );
    const failed = outcomes.find((o): o is Error => o instanceof Error);
    const answered = rows.flatMap((row, i) => (outcomes[i] instanceof Error ? [] : [{ id: row.id, result: JSON.stringify(outcomes[i]) }]));
    if (answered.length > 0) {
      for (const a of answered) recording.add(a.id);
      const previous = recorded;
      recorded = previous.then(() => record(answered)).catch(() => undefined);
      // At most one recording in flight beside the next append.
      await previous;
    }
    if (failed) throw failed;
    return rows.length;
  };

  /**
   * Housekeeping, by the integrator only: answers whose accepting instance died before collecting
   * them, and the query index partitions of the months ahead (the owner role only; the app role
   * cannot create tables and leaves that to the owner's next start).
   */
  const maintain = async (): Promise<void> => {
    await pool.query("DELETE FROM staged_results WHERE integrated_at < now() - $1 * interval '1 millisecond'", [ORPHAN_ANSWER_MS]);
    await ensurePartitions(pool, Date.now()).catch(() => undefined);
  };

  const lead = async (): Promise<void> => {
    // Staged drafts were protected (personal values encrypted) by the instance that accepted them.
    const current = await LogEngine.open({ ...options.engine, protect: undefined, store: leaderStore });
    leader = current;
    for (const log of await current.listLogs()) notifyCheckpoint(log);
    options.onRoleChange?.(true);
    let maintained = 0;
    try {
      while (leader === current && !closed) {
        if (Date.now() - maintained > MAINTENANCE_MS) {
          maintained = Date.now();
          await maintain().catch(() => undefined);
        }
        staged = false;
        const n = await integrateRound(current);
        if (n === 0 && !staged) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, POLL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      }
      // Stepping down in good order: what is staged now is still integrated before the lease goes.
      if (closed) while ((await integrateRound(current)) > 0);
    } finally {
      await recorded;
      if (leader === current) leader = undefined;
      await current.close().catch(() => undefined);
      options.onRoleChange?.(false);
    }
  };

  // --- the dedicated connection: lease and notifications --------------------------------------
  let client: DedicatedClient | undefined;
  let electionTimer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<DedicatedClient> => {
    const { default: pg } = await import("pg");
    const c = new pg.Client({
      connectionString: options.connectionString,
      application_name: "sealtrail-lease",
    }) as unknown as DedicatedClient;
    c.on("notification", (message) => {
      if (message.channel === "sealtrail_integrated") collectSoon();
      else if (message.channel === "sealtrail_staged") {
        staged = true;
        wake?.();
      } else if (message.payload) for (const log of message.payload.split("\n")) reloadSoon(log);
    });
    const lost = () => {
      if (client !== c) return;
      client = undefined;
      // Without the connection there is no lease: stop integrating at once.
      leader = undefined;
      wake?.();
    };
    c.on("error", lost);
    c.on("end", lost);
    await c.connect();
    // Followers reload a log per checkpoint (at most one per interval), not per commit: what they
    // serve (checkpoint, tiles, proofs) is bounded by the checkpoint anyway, and the live tail
    // receives a checkpoint interval's events at once.
    for (const channel of ["sealtrail_integrated", "sealtrail_staged", "sealtrail_checkpoint"]) {
      await c.query(`LISTEN ${channel}`);
    }
    return c;
  };

  const elect = async (): Promise<void> => {
    if (closed) return;
    try {
      if (!client) {
        client = await connect();
        // Catch up on whatever changed while we were not listening.
        for (const log of await engine.listLogs()) reloadSoon(log);
      }
      if (!leading) {
        const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, 0) AS ok", [LOCK.integrator]);
        if (rows[0]?.ok) {
          const c = client;
          leading = lead()
            .catch(() => undefined)
            .finally(async () => {
              leading = undefined;
              // Release explicitly when the connection survived (an error made us step down).
              if (client === c && !closed) await c.query("SELECT pg_advisory_unlock($1, 0)", [LOCK.integrator]).catch(() => undefined);
            });
        }
      }
    } catch {
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    }
    if (!closed) electionTimer = setTimeout(() => void elect(), retryMs);
  };
  await elect();

  return {
    engine,
    integrating: () => leader !== undefined,
    close: async () => {
      if (closed) return;
      closed = true;
      if (electionTimer) clearTimeout(electionTimer);
      wake?.();
      await leading;
      clearInterval(poll);
      for (const waiter of waiters.values()) {
        waiter.reject(new StoreError("engine_closed", "the server stopped before the staged batch was integrated; it is durable"));
      }
      waiters.clear();
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
      await engine.close();
    },
  };
}
