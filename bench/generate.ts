import { type EventInput, seededRandom } from "@sealtrail/core";

/** Zipf-like sampler over n ranks (s ≈ 1.1): a few tenants, actors and actions dominate, as in real SaaS. */
export function zipf(n: number, rand: () => number, s = 1.1): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / total;
    cumulative.push(acc);
  }
  return () => {
    const r = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const RESOURCES = ["document", "user", "member", "project", "invoice", "api_key", "settings", "billing", "report", "webhook"];
const VERBS = ["created", "viewed", "updated", "deleted", "shared", "exported", "login", "logout", "invited", "role_changed"];
const FIRST = ["Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "John", "Radia"];
const LAST = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Johnson",
  "Dijkstra",
  "Liskov",
  "Thompson",
  "Hamilton",
  "Ritchie",
  "Allen",
  "Backus",
  "Perlman",
];
const AGENTS = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  "acme-cli/2.4.1 (linux; amd64)",
];

export interface Generated {
  readonly tenant: string;
  readonly event: EventInput;
}

export interface Dataset {
  readonly tenants: number;
  readonly actorsPerTenant: number;
  readonly actions: readonly string[];
  /** Event i of the stream (deterministic for the seed). */
  next(): Generated;
}

/**
 * Realistic events: skewed tenants (tenant 0 largest), actors and actions; 300-600 bytes of JSON
 * each; occurredAt spread over the last 90 days in arrival order with some jitter.
 */
export function dataset(options: { seed?: number; tenants?: number; total: number; now?: number }): Dataset {
  const rand = seededRandom(options.seed ?? 7);
  const tenants = options.tenants ?? 1000;
  const actorsPerTenant = 200;
  const actions = RESOURCES.flatMap((r) => VERBS.map((v) => `${r}.${v}`));
  const pickTenant = zipf(tenants, rand, 1.0);
  const pickActor = zipf(actorsPerTenant, rand, 1.1);
  const pickAction = zipf(actions.length, rand, 1.2);
  const now = options.now ?? Date.UTC(2026, 10, 27);
  const span = 90 * 86_400_000;
  let i = 0;
  return {
    tenants,
    actorsPerTenant,
    actions,
    next(): Generated {
      const t = pickTenant();
      const a = pickActor();
      const action = actions[pickAction()] as string;
      const resource = action.split(".")[0] as string;
      const occurred = now - span + Math.floor((span * i) / options.total) - Math.floor(rand() * 60_000);
      const outcomeRoll = rand();
      const event: EventInput = {
        action,
        occurredAt: new Date(occurred).toISOString(),
        actor: {
          type: a < 190 ? "user" : "service",
          id: `u_${t}_${a}`,
          name: `${FIRST[a % FIRST.length]} ${LAST[(a * 7) % LAST.length]}`,
          email: `user${a}@tenant${t}.example`,
        },
        targets: [
          { type: resource, id: `${resource.slice(0, 3)}_${Math.floor(rand() * 5000)}`, name: `${resource} ${Math.floor(rand() * 100)}` },
        ],
        outcome: outcomeRoll < 0.9 ? "success" : outcomeRoll < 0.97 ? "failure" : "denied",
        context: {
          ip: `203.0.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`,
          userAgent: AGENTS[Math.floor(rand() * AGENTS.length)] as string,
          requestId: `req_${i.toString(36)}`,
          sessionId: `sess_${t}_${a}_${Math.floor(occurred / 86_400_000)}`,
        },
        metadata: {
          plan: t % 3 === 0 ? "enterprise" : "team",
          region: t % 2 === 0 ? "eu-west-1" : "us-east-1",
          attempt: Math.floor(rand() * 3),
        },
      };
      i++;
      return { tenant: `t${String(t).padStart(4, "0")}`, event };
    },
  };
}
