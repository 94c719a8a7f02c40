import { mkdtempSync, rmSync } from "node:fs";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { EventInput } from "@sealtrail/core";
import { currentAuditContext } from "@sealtrail/middleware";
import { type AuditLog, createAuditLog } from "sealtrail";
import { withAuditContext } from "sealtrail/node";
import { openPlainTable, type PlainTable } from "./plain-table.ts";

export interface RecordOverheadOptions {
  readonly log: (line: string) => void;
  /** Length of each measured window (default 3000 ms); every variant gets `rounds` windows, interleaved. */
  readonly durationMs?: number;
  readonly rounds?: number;
  /** Requests in flight at once (default 32). */
  readonly concurrency?: number;
}

type Variant = "baseline" | "awaited" | "background" | "plain";

const VARIANTS: Record<Variant, string> = {
  baseline: "no audit.record() in the handler",
  awaited: "await audit.record() (answers after the event is durable)",
  background: "audit.record() not awaited (answers at once; the event commits in the next group commit)",
  plain: "no Sealtrail: the same event awaited into the plain indexed table, one fsync'd commit per event-loop turn",
};

/**
 * Requests per second of one small node:http app with and without `audit.record()` in its
 * handler, in the same run and the same process, variants interleaved round by round so drift on
 * a shared machine hits each of them alike. Every variant runs behind the same audit context
 * middleware (`withAuditContext`), so the difference is the record itself. The app is embedded
 * SQLite with its default durability (fsync per group commit), its engine on a worker thread.
 */
export async function runRecordOverheadBench(options: RecordOverheadOptions): Promise<Record<string, unknown>> {
  const durationMs = options.durationMs ?? 3000;
  const rounds = options.rounds ?? 2;
  const concurrency = options.concurrency ?? 32;
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-bench-record-"));
  const audit = await createAuditLog({ path: dir, handleSignals: false });
  const plain = groupCommitted(openPlainTable(join(dir, "plain.db"), { durability: "full" }));
  const servers = await Promise.all((Object.keys(VARIANTS) as Variant[]).map((v) => startApp(v, audit, plain)));
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const totals: Record<Variant, { requests: number; ms: number; busyMs: number }> = {
    baseline: { requests: 0, ms: 0, busyMs: 0 },
    awaited: { requests: 0, ms: 0, busyMs: 0 },
    background: { requests: 0, ms: 0, busyMs: 0 },
    plain: { requests: 0, ms: 0, busyMs: 0 },
  };
  try {
    options.log(`record overhead: ${concurrency} concurrent keep-alive requests, ${rounds} × ${durationMs} ms per variant, interleaved`);
    // The embedded engine runs on its own thread: its cost shows only if no core is free for it.
    options.log(`  ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} before the run`);
    // Warm-up: JIT, SQLite page cache, keep-alive sockets.
    for (const s of servers) await load(s.url, agent, concurrency, 500);
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        const result = await load(s.url, agent, concurrency, durationMs);
        totals[s.variant].requests += result.requests;
        totals[s.variant].ms += result.ms;
        totals[s.variant].busyMs += result.busyMs;
      }
    }
    const rate = (v: Variant) => (totals[v].requests * 1000) / totals[v].ms;
    // Time the request thread was busy per request (event loop utilization): the cost the app's
    // own thread pays, which a machine shared with other work distorts far less than req/s.
    const busy = (v: Variant) => (totals[v].busyMs * 1000) / totals[v].requests;
    const base = rate("baseline");
    const summary: Record<string, unknown> = {};
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const rps = rate(v);
      const overhead = v === "baseline" ? 0 : (1 - rps / base) * 100;
      summary[`record_overhead_${v}_rps`] = Math.round(rps);
      summary[`record_overhead_${v}_thread_us_per_request`] = Number(busy(v).toFixed(1));
      if (v !== "baseline") summary[`record_overhead_${v}_percent`] = Number(overhead.toFixed(1));
      options.log(
        `  ${v.padEnd(10)} ${Math.round(rps).toString().padStart(7)} req/s${v === "baseline" ? "          " : `  ${overhead >= 0 ? "-" : "+"}${Math.abs(overhead).toFixed(1)}%`.padEnd(10)}  ${busy(v).toFixed(0).padStart(4)} µs/request on the request thread  ${VARIANTS[v]}`,
      );
    }
    const stored = (await audit.query("", { limit: 1 })).events[0]?.index ?? -1;
    options.log(`  (${stored + 1} audit events written; load average ${loadavg()[0]?.toFixed(1)}; target: awaited overhead < 10 %)`);
    summary.record_overhead_events_written = stored + 1;
    Object.assign(summary, await threadCost(options.log));
    return summary;
  } finally {
    agent.destroy();
    await Promise.all(servers.map((s) => new Promise((done) => s.server.close(done))));
    await audit.close();
    plain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a team without Sealtrail would write: rows for the plain indexed table (plain-table.ts)
 * queued and committed together once per event-loop turn, each caller answered once its commit
 * is on disk (synchronous=FULL), as Sealtrail acknowledges. The commit runs on the request thread,
 * as better-sqlite3 does.
 */
function groupCommitted(table: PlainTable): { insert(event: EventInput): Promise<void>; close(): void } {
  let queued: { event: EventInput; done: () => void; fail: (error: unknown) => void }[] = [];
  const commit = () => {
    const batch = queued;
    queued = [];
    try {
      table.insertBatch(batch.map(({ event }) => ({ tenant: "default", event })));
      for (const { done } of batch) done();
    } catch (error) {
      for (const { fail } of batch) fail(error);
    }
  };
  return {
    insert: (event) =>
      new Promise<void>((done, fail) => {
        if (queued.length === 0) setImmediate(commit);
        queued.push({ event, done, fail });
      }),
    close: () => table.close(),
  };
}

/**
 * What one record() costs the thread that calls it, with the engine on its worker thread (the
 * default) and inline (`worker: false`): event loop busy time per event, and the whole process's
 * CPU per event. Inline, the loop is also blocked while SQLite syncs each commit to disk.
 */
async function threadCost(log: (line: string) => void): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  log("  request-thread cost of one record() (8,000 events, 64 at a time, no HTTP):");
  for (const worker of [true, false]) {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-bench-thread-"));
    const audit = await createAuditLog({ path: dir, handleSignals: false, worker });
    const actor = { type: "user", id: "u_42" };
    try {
      await audit.record({ action: "bench.warmup", actor });
      const utilization = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const n = 8000;
      for (let k = 0; k < n; k += 64) {
        await Promise.all(
          Array.from({ length: 64 }, (_, i) =>
            audit.record({ action: "document.viewed", actor, targets: [{ type: "document", id: `d${i}` }] }),
          ),
        );
      }
      const rate = (n * 1000) / (performance.now() - started);
      const busyUs = (performance.eventLoopUtilization(utilization).active * 1000) / n;
      const used = process.cpuUsage(cpu);
      const cpuUs = (used.user + used.system) / n;
      const name = worker ? "worker" : "inline";
      log(
        `    ${name.padEnd(7)} ${busyUs.toFixed(0).padStart(4)} µs busy on the caller's thread, ${cpuUs.toFixed(0).padStart(4)} µs CPU in all, ${Math.round(rate)} events/s`,
      );
      out[`record_${name}_thread_busy_us`] = Number(busyUs.toFixed(1));
      out[`record_${name}_cpu_us`] = Number(cpuUs.toFixed(1));
      out[`record_${name}_events_per_s`] = Math.round(rate);
    } finally {
      await audit.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function startApp(
  variant: Variant,
  audit: AuditLog,
  plain: ReturnType<typeof groupCommitted>,
): Promise<{ variant: Variant; url: string; server: Server }> {
  const handler = withAuditContext(
    async (req, res) => {
      const id = (req.url ?? "/").split("/")[2] ?? "0";
      if (variant === "awaited") await audit.record({ action: "document.viewed", targets: [{ type: "document", id }] });
      else if (variant === "background") {
        audit.record({ action: "document.viewed", targets: [{ type: "document", id }] }).catch(() => undefined);
      } else if (variant === "plain") {
        // The same attribution record() would add, taken from the same request context.
        const context = currentAuditContext();
        if (!context) throw new Error("the plain variant runs behind withAuditContext");
        await plain.insert({
          occurredAt: new Date().toISOString(),
          action: "document.viewed",
          actor: await context.actor(),
          targets: [{ type: "document", id }],
          context: context.fields,
        });
      }
      const body = JSON.stringify({ id, title: `Document ${id}`, owner: "u_42", updatedAt: "2026-11-27T12:00:00.000Z" });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    },
    { actor: () => ({ type: "user", id: "u_42" }) },
  );
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { variant, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Keeps `concurrency` requests in flight for `durationMs`; counts completed 200s. */
async function load(
  url: string,
  agent: Agent,
  concurrency: number,
  durationMs: number,
): Promise<{ requests: number; ms: number; busyMs: number }> {
  const utilization = performance.eventLoopUtilization();
  const started = performance.now();
  const deadline = started + durationMs;
  let requests = 0;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const status = await get(`${url}/documents/doc_${w}_${i % 100}`, agent);
      if (status !== 200) throw new Error(`the app answered ${status}`);
      requests++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const ms = performance.now() - started;
  return { requests, ms, busyMs: performance.eventLoopUtilization(utilization).active };
}

function get(url: string, agent: Agent): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.once("end", () => done(res.statusCode ?? 0));
    });
    req.once("error", fail);
    req.end();
  });
}

// Standalone: node --conditions=source --import tsx bench/record-overhead.ts [durationMs]
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const summary = await runRecordOverheadBench({ log, ...(process.argv[2] ? { durationMs: Number(process.argv[2]) } : {}) });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
