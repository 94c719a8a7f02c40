import type { Stats } from "./api.js";

export interface Overview {
  readonly total: number;
  readonly bucket: "hour" | "day";
  readonly overTime: Stats["groups"];
  /** The same buckets counted over failures and denials only. */
  readonly problemsOverTime: Stats["groups"] | undefined;
  readonly actions: Stats["groups"];
  readonly actors: Stats["groups"];
  readonly outcomes: Stats["groups"];
}

function Bars(props: { title: string; groups: Stats["groups"]; onPick: (key: string) => void }) {
  const groups = props.groups ?? [];
  const max = Math.max(1, ...groups.map((g) => g.count));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <ul class="bars">
        {groups.slice(0, 6).map((g) => (
          <li key={g.key}>
            <button type="button" class={`bar-label ${g.key}`} title={`Filter by ${g.key}`} onClick={() => props.onPick(g.key)}>
              {g.key}
            </button>
            <span class={`bar ${g.key}`} style={{ width: `${(g.count / max) * 100}%` }} />
            <span class="count">{g.count}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** Column chart of events per bucket, failures and denials drawn over each column in red. */
function OverTime(props: { overview: Overview }) {
  const groups = props.overview.overTime ?? [];
  const problems = new Map((props.overview.problemsOverTime ?? []).map((g) => [g.key, g.count]));
  const max = Math.max(1, ...groups.map((g) => g.count));
  const width = 100 / Math.max(1, groups.length);
  const first = groups[0]?.key;
  const last = groups[groups.length - 1]?.key;
  return (
    <figure class="chart wide">
      <figcaption>
        Events per {props.overview.bucket} (UTC) — <span class="legend problems">failures and denials</span>
      </figcaption>
      <svg
        viewBox="0 0 100 40"
        preserveAspectRatio="none"
        role="img"
        aria-label={`Events per ${props.overview.bucket} from ${first} to ${last}`}
      >
        {groups.map((g, i) => {
          const h = (g.count / max) * 40;
          const p = ((problems.get(g.key) ?? 0) / max) * 40;
          return (
            <g key={g.key}>
              <title>{`${g.key}: ${g.count} events, ${problems.get(g.key) ?? 0} failures or denials`}</title>
              <rect class="col" x={i * width + width * 0.1} width={width * 0.8} y={40 - h} height={h} />
              {p > 0 && <rect class="col problems" x={i * width + width * 0.1} width={width * 0.8} y={40 - p} height={p} />}
            </g>
          );
        })}
      </svg>
      <div class="axis">
        <span>{first}</span>
        <span>{last}</span>
      </div>
    </figure>
  );
}

export function Charts(props: { overview: Overview | undefined; onPick: (qualifier: string, value: string) => void }) {
  const o = props.overview;
  if (!o) return <section class="charts" aria-busy="true" aria-label="Overview" />;
  return (
    <section class="charts" aria-label="Overview">
      <p class="total">
        <strong>{o.total.toLocaleString("en")}</strong> matching {o.total === 1 ? "event" : "events"}
      </p>
      <OverTime overview={o} />
      <Bars title="Top actions" groups={o.actions} onPick={(k) => props.onPick("action", k)} />
      <Bars title="Top actors" groups={o.actors} onPick={(k) => props.onPick("actor", k)} />
      <Bars title="Outcomes" groups={o.outcomes} onPick={(k) => props.onPick("outcome", k)} />
    </section>
  );
}
