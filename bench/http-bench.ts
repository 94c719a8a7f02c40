import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join, resolve } from "node:path";
import { startServer } from "../tests/support/server-process.ts";
import { dataset } from "./generate.ts";
import { round2 } from "./ingest-bench.ts";

interface Endpoint {
  readonly url: string;
  readonly pid: number;
  readonly headers: Record<string, string>;
  stop(): Promise<unknown>;
}

/**
 * HTTP ingest over keep-alive on loopback, batches of 100 and of 1, from a bounded load generator
 * (a fixed number of requests in flight), against the real `sealtrail serve` process and against
 * a minimal node:http endpoint over the plain indexed table (baseline-server.ts). Both servers are
 * child processes, so the generator never shares their event loop. The server's RSS is sampled
 * throughout; `sustainSeconds` adds a long batch-100 run that shows whether memory stays flat.
 */
export async function runHttpBench(options: {
  dir: string;
  seconds: number;
  sustainSeconds: number;
  concurrency: number;
  tenants: number;
  log: (line: string) => void;
}) {
  const { log } = options;
  const sealtrail = await startSealtrail(join(options.dir, "http-data"));
  const baseline = await startBaseline(join(options.dir, "http-plain.db"));
  const figures: Record<string, number> = {};
  const rss: number[] = [];
  try {
    for (const batch of [100, 1]) {
      const ours = await drive(sealtrail, { ...options, batch, seconds: options.seconds, onSample: () => rss.push(rssMb(sealtrail.pid)) });
      const theirs = await drive(baseline, { ...options, batch, seconds: options.seconds });
      const suffix = batch === 100 ? "" : "_batch1";
      figures[`ingest_http${suffix}_eps`] = ours;
      figures[`ingest_http${suffix}_baseline_eps`] = theirs;
      figures[`ingest_http${suffix}_ratio`] = round2(ours / theirs);
      log(
        `  HTTP ingest, batches of ${batch}, ${options.concurrency} requests in flight: sealtrail ${ours} events/s, ` +
          `minimal node:http endpoint over the plain table ${theirs} events/s: ${round2(ours / theirs)}x`,
      );
    }
    figures.rss_mb = Math.round(Math.max(...rss));
    if (options.sustainSeconds > 0) {
      const samples: { at: number; mb: number }[] = [];
      const started = performance.now();
      const eps = await drive(sealtrail, {
        ...options,
        batch: 100,
        seconds: options.sustainSeconds,
        onSample: () => samples.push({ at: performance.now() - started, mb: rssMb(sealtrail.pid) }),
      });
      const window = Math.min(60_000, (options.sustainSeconds * 1000) / 5);
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
      const first = median(samples.filter((s) => s.at <= window).map((s) => s.mb));
      const last = median(samples.filter((s) => s.at >= options.sustainSeconds * 1000 - window).map((s) => s.mb));
      figures.sustained_eps = eps;
      figures.rss_sustained_first_mb = Math.round(first);
      figures.rss_sustained_last_mb = Math.round(last);
      figures.rss_mb = Math.round(Math.max(figures.rss_mb, ...samples.map((s) => s.mb)));
      log(
        `  sustained ingest for ${options.sustainSeconds} s at ${eps} events/s: server RSS median ${Math.round(first)} MB in the first ${window / 1000} s, ` +
          `${Math.round(last)} MB in the last ${window / 1000} s (peak ${figures.rss_mb} MB)`,
      );
    } else {
      log(`  server RSS peak during HTTP ingest: ${figures.rss_mb} MB (add --sustain-seconds 600 for the flat-memory check)`);
    }
  } finally {
    await sealtrail.stop();
    await baseline.stop();
  }
  return figures;
}

async function startSealtrail(dataDir: string): Promise<Endpoint> {
  const server = await startServer({ dataDir });
  return {
    url: server.url,
    pid: server.pid,
    headers: { authorization: `Bearer ${server.adminKey}` },
    stop: () => server.stop(),
  };
}

async function startBaseline(path: string): Promise<Endpoint> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", resolve(import.meta.dirname, "baseline-server.ts"), path],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_OPTIONS: "" } },
  );
  const exited = new Promise((done) => child.once("exit", done));
  const url = await new Promise<string>((done, fail) => {
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (\S+)/.exec(output);
      if (match) done(match[1] as string);
    });
    child.once("exit", (code) => fail(new Error(`baseline server exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid as number,
    headers: {},
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Keeps `concurrency` requests in flight for `seconds`; returns acknowledged events per second. */
async function drive(
  endpoint: Endpoint,
  options: { batch: number; seconds: number; concurrency: number; tenants: number; onSample?: () => void },
): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const data = dataset({ total: 1_000_000, tenants: options.tenants, seed: 11 });
  const deadline = performance.now() + options.seconds * 1000;
  const sampler = options.onSample ? setInterval(options.onSample, 500) : undefined;
  let acknowledged = 0;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const first = data.next();
      const events = [first.event];
      while (events.length < options.batch) events.push(data.next().event);
      const body = options.batch === 1 ? JSON.stringify(first.event) : JSON.stringify({ events });
      const status = await post(agent, `${endpoint.url}/v1/logs/${first.tenant}/events`, endpoint.headers, body);
      if (status < 200 || status >= 300) throw new Error(`${endpoint.url} answered ${status}`);
      acknowledged += events.length;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    if (sampler) clearInterval(sampler);
    agent.destroy();
  }
  return Math.round(acknowledged / ((performance.now() - started) / 1000));
}

function post(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(url, { method: "POST", agent, headers: { ...headers, "content-type": "application/json" } }, (response) => {
      response.resume();
      response.on("end", () => done(response.statusCode ?? 0));
    });
    req.on("error", fail);
    req.end(body);
  });
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
