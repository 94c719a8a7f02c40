import { parseQuery, QueryError } from "@sealtrail/core";
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type Api, ApiError, type GroupBy, type Hit } from "./api.js";
import { Charts, type Overview } from "./charts.js";
import { DetailPanel } from "./detail-panel.js";
import { toCsv, toJsonLines } from "./export.js";
import { qualifierValues, quoteValue, setQualifier, type ValueSource } from "./query-edit.js";
import { ResultsTable } from "./results-table.js";
import { SearchBar } from "./search-bar.js";

/** The key a Verify trusts, and where it came from (said next to every verdict). */
export interface Trust {
  readonly verifierKey: string;
  readonly origin: string;
  readonly source: string;
}

export interface ViewerProps {
  readonly api: Api;
  readonly log: string;
  readonly trust: Trust | undefined;
  /** Shown under the title, e.g. what a viewer token is restricted to. */
  readonly scope?: string;
  readonly toolbar?: ComponentChildren;
  /** A 401 or 403: the key or token is no good (any more). */
  readonly onDenied: (error: ApiError) => void;
}

const PAGE = 100;
const EXPORT_MAX = 100_000;
const TIME_PRESETS = [
  ["", "Any time"],
  ["-15m", "Last 15 minutes"],
  ["-1h", "Last hour"],
  ["-24h", "Last 24 hours"],
  ["-7d", "Last 7 days"],
  ["-30d", "Last 30 days"],
] as const;

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Search, results, live tail, overview and detail for one log: the console and the embed share it. */
export function Viewer(props: ViewerProps) {
  const { api, log } = props;
  const [text, setText] = useState("");
  const [applied, setApplied] = useState("");
  const [queryError, setQueryError] = useState<{ message: string; position: number } | undefined>();
  const [rows, setRows] = useState<Hit[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [ready, setReady] = useState(false);
  // The query the rows on screen answer: set together with them, never before they arrive.
  const [answered, setAnswered] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [selected, setSelected] = useState<Hit | undefined>();
  const [overview, setOverview] = useState<Overview | undefined>();
  const [live, setLive] = useState(false);
  const [liveState, setLiveState] = useState("");
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const [exporting, setExporting] = useState("");
  const generation = useRef(0);
  const [reload, setReload] = useState(0);
  const known = useRef(new Map<ValueSource, Promise<readonly string[]>>());

  const fail = useCallback(
    (error: unknown) => {
      if (error instanceof DOMException && error.name === "AbortError") return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) props.onDenied(error);
      setFailure(error instanceof Error ? error.message : String(error));
    },
    [props.onDenied],
  );

  const run = (query: string) => {
    try {
      parseQuery(query);
    } catch (error) {
      if (error instanceof QueryError) {
        setQueryError({ message: error.message, position: error.position });
        return;
      }
      throw error;
    }
    setQueryError(undefined);
    setText(query);
    setApplied(query);
    // Searching the same query again reloads it (e.g. to see events that arrived since).
    generation.current++;
    setReload(generation.current);
  };

  // First page, then the overview: on a large log the page must not wait behind the counts.
  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    setReady(false);
    setAnswered(undefined);
    setFailure(undefined);
    setRows([]);
    setCursor(null);
    setOverview(undefined);
    setFresh(new Set());
    setExporting("");
    (async () => {
      const page = await api.search(log, { q: applied, limit: PAGE }, abort.signal);
      setRows(page.events);
      setAnswered(applied);
      setCursor(page.nextCursor);
      setLoading(false);
      setReady(true);
      setOverview(await loadOverview(api, log, applied, abort.signal));
    })().catch((error) => {
      setLoading(false);
      fail(error);
    });
    return () => abort.abort();
  }, [api, log, applied, reload]);

  const loadMore = () => {
    if (!cursor || loading) return;
    setLoading(true);
    const at = generation.current;
    api
      .search(log, { q: applied, cursor, limit: PAGE })
      .then((page) => {
        if (at !== generation.current) return;
        setRows((r) => [...r, ...page.events]);
        setCursor(page.nextCursor);
      })
      .catch(fail)
      .finally(() => setLoading(false));
  };

  // Live: the tail resumes after the newest event shown, so nothing between page and stream is lost.
  const newest = useRef<number | undefined>(undefined);
  newest.current = rows[0]?.index;
  useEffect(() => {
    if (!live || !ready) return;
    const abort = new AbortController();
    setLiveState("connecting…");
    api
      .tail(log, {
        q: applied,
        ...(newest.current !== undefined ? { lastEventId: newest.current } : {}),
        signal: abort.signal,
        onReady: () => setLiveState("live: new events appear at the top"),
        onEvent: (hit) => {
          setRows((r) => (r.some((x) => x.index === hit.index) ? r : [hit, ...r]));
          // The counts follow the stream; the charts are redrawn on the next search.
          setOverview((o) => o && { ...o, total: o.total + 1 });
          setFresh((f) => new Set([...f, hit.index]));
        },
      })
      .then(() => setLiveState("the live stream ended"))
      .catch((error) => {
        if (!abort.signal.aborted) {
          setLiveState("live stream failed");
          fail(error);
        }
      });
    return () => abort.abort();
  }, [live, ready, api, log, applied, reload]);

  const knownValues = (field: ValueSource) => {
    let values = known.current.get(field);
    if (!values) {
      values = api.stats(log, { q: "", groupBy: field, limit: 100 }).then((s) => (s.groups ?? []).map((g) => g.key));
      known.current.set(field, values);
    }
    return values;
  };

  const exportAs = async (format: "csv" | "jsonl") => {
    setExporting("Exporting…");
    try {
      const all: Hit[] = [];
      let next: string | null | undefined;
      do {
        const page = await api.search(log, { q: applied, limit: 1000, ...(next ? { cursor: next } : {}) });
        all.push(...page.events);
        next = page.nextCursor;
        setExporting(`Exporting… ${all.length} events`);
      } while (next && all.length < EXPORT_MAX);
      const name = `${log}-events.${format}`;
      if (format === "csv") download(name, "text/csv", toCsv(all));
      else download(name, "application/jsonl", toJsonLines(all));
      setExporting(`Exported ${all.length} events${next ? ` (stopped at ${EXPORT_MAX})` : ""}.`);
    } catch (error) {
      setExporting("");
      fail(error);
    }
  };

  const quick = (name: string, value: string) => run(setQualifier(applied, name, value ? [value] : undefined));
  const time = qualifierValues(applied, "after")[0] ?? "";

  return (
    <div class="viewer">
      <header class="topbar">
        <h1>
          Audit trail <span class="log-name">{log}</span>
        </h1>
        {props.scope && <p class="scope">{props.scope}</p>}
        <div class="toolbar">
          <button type="button" aria-pressed={live} class={live ? "live on" : "live"} onClick={() => setLive(!live)}>
            {live ? "● Live" : "Live"}
          </button>
          <button type="button" onClick={() => exportAs("csv")}>
            Export CSV
          </button>
          <button type="button" onClick={() => exportAs("jsonl")}>
            Export JSON Lines
          </button>
          {props.toolbar}
        </div>
      </header>
      <SearchBar value={text} error={queryError} onInput={setText} onSubmit={run} knownValues={knownValues} />
      <form class="quick" aria-label="Quick filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Time
          <select value={time} onChange={(e) => quick("after", e.currentTarget.value)}>
            {TIME_PRESETS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <QuickInput label="Actor" name="actor" applied={applied} onApply={quick} />
        <QuickInput label="Action" name="action" applied={applied} onApply={quick} />
        <QuickInput label="Target" name="target" applied={applied} onApply={quick} placeholder="type/id" />
        <label>
          Outcome
          <select value={qualifierValues(applied, "outcome")[0] ?? ""} onChange={(e) => quick("outcome", e.currentTarget.value)}>
            <option value="">Any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </label>
      </form>
      {(failure || exporting || liveState) && (
        <p class={failure ? "notice bad" : "notice"} role={failure ? "alert" : "status"}>
          {failure ?? (live ? liveState : exporting)}
        </p>
      )}
      <Charts overview={overview} onPick={(name, value) => quick(name, quoteValue(value))} />
      <div class={selected ? "main with-detail" : "main"}>
        <ResultsTable
          query={answered}
          rows={rows}
          selected={selected}
          fresh={fresh}
          loading={loading}
          complete={cursor === null}
          onOpen={setSelected}
          onNeedMore={loadMore}
        />
        {selected && (
          <DetailPanel
            api={api}
            hit={selected}
            trust={props.trust}
            onPivot={(q) => {
              setSelected(undefined);
              run(q);
            }}
            onClose={() => setSelected(undefined)}
          />
        )}
      </div>
    </div>
  );
}

function QuickInput(props: {
  label: string;
  name: string;
  applied: string;
  placeholder?: string;
  onApply: (name: string, value: string) => void;
}) {
  const current = qualifierValues(props.applied, props.name)[0] ?? "";
  const [value, setValue] = useState(current);
  useEffect(() => setValue(current), [current]);
  const apply = () => {
    if (value.trim() !== current) props.onApply(props.name, value.trim() ? quoteValue(value.trim()) : "");
  };
  return (
    <label>
      {props.label}
      <input
        type="text"
        value={value}
        placeholder={props.placeholder ?? "any"}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") apply();
        }}
        onBlur={apply}
      />
    </label>
  );
}

async function loadOverview(api: Api, log: string, q: string, signal: AbortSignal): Promise<Overview> {
  const filter = parseQuery(q);
  const after = filter.occurredAfter ? Date.parse(filter.occurredAfter) : undefined;
  const bucket: GroupBy & ("hour" | "day") = after !== undefined && Date.now() - after <= 2 * 86_400_000 ? "hour" : "day";
  const limit = bucket === "hour" ? 48 : 60;
  // Failures and denials per bucket: the same query narrowed to those outcomes, unless it already picks outcomes.
  const problemsQuery = filter.outcome ? undefined : `${q} outcome:failure outcome:denied`;
  const [overTime, problems, actions, actors, outcomes] = await Promise.all([
    api.stats(log, { q, groupBy: bucket, limit }, signal),
    problemsQuery ? api.stats(log, { q: problemsQuery, groupBy: bucket, limit }, signal) : undefined,
    api.stats(log, { q, groupBy: "action", limit: 6 }, signal),
    api.stats(log, { q, groupBy: "actor", limit: 6 }, signal),
    api.stats(log, { q, groupBy: "outcome", limit: 3 }, signal),
  ]);
  return {
    total: overTime.total,
    bucket,
    overTime: overTime.groups,
    problemsOverTime: problems?.groups,
    actions: actions.groups,
    actors: actors.groups,
    outcomes: outcomes.groups,
  };
}
