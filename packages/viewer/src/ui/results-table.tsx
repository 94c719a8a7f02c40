import { useEffect, useRef, useState } from "preact/hooks";
import type { Hit } from "./api.js";
import { formatTime } from "./format.js";

const ROW_HEIGHT = 32;
const OVERSCAN = 8;

export interface ResultsTableProps {
  /** The query these rows answer, once they have arrived (data-query: tests and tools can tell answers apart). */
  readonly query: string | undefined;
  readonly rows: readonly Hit[];
  readonly selected: Hit | undefined;
  readonly fresh: ReadonlySet<number>;
  readonly loading: boolean;
  readonly complete: boolean;
  readonly onOpen: (hit: Hit) => void;
  /** Asked when the user nears the end of what is loaded. */
  readonly onNeedMore: () => void;
}

/**
 * A virtualised grid: only the rows in view (plus a margin) are in the DOM, so thousands of rows
 * scroll smoothly. Keyboard: ↑ ↓ PageUp PageDown Home End move, Enter opens (WAI-ARIA grid pattern,
 * with aria-activedescendant so focus stays on the grid).
 */
export function ResultsTable(props: ResultsTableProps) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);
  const [active, setActive] = useState(0);
  const { rows } = props;

  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (active >= rows.length) setActive(Math.max(0, rows.length - 1));
  }, [rows.length, active]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);

  useEffect(() => {
    if (!props.complete && !props.loading && last >= rows.length - OVERSCAN && rows.length > 0) props.onNeedMore();
  }, [last, rows.length, props.complete, props.loading]);

  const moveTo = (index: number) => {
    const next = Math.max(0, Math.min(rows.length - 1, index));
    setActive(next);
    const el = viewport.current;
    if (!el) return;
    const top = next * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight - ROW_HEIGHT) el.scrollTop = top + 2 * ROW_HEIGHT - el.clientHeight;
  };

  const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);
  const onKeyDown = (event: KeyboardEvent) => {
    const keys: Record<string, () => void> = {
      ArrowDown: () => moveTo(active + 1),
      ArrowUp: () => moveTo(active - 1),
      PageDown: () => moveTo(active + page),
      PageUp: () => moveTo(active - page),
      Home: () => moveTo(0),
      End: () => moveTo(rows.length - 1),
      Enter: () => {
        const hit = rows[active];
        if (hit) props.onOpen(hit);
      },
    };
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };

  const activeHit = rows[active];
  return (
    <div class="results" data-query={props.query}>
      <div
        class="grid"
        role="grid"
        aria-label="Events, newest first"
        aria-busy={props.loading}
        aria-rowcount={props.complete ? rows.length + 1 : -1}
        aria-activedescendant={activeHit ? `st-row-${activeHit.index}` : undefined}
        tabIndex={0}
        onKeyDown={onKeyDown}
      >
        <div class="row header" role="row" aria-rowindex={1}>
          <span role="columnheader">Time (UTC)</span>
          <span role="columnheader">Action</span>
          <span role="columnheader">Actor</span>
          <span role="columnheader">Target</span>
          <span role="columnheader">Outcome</span>
          <span role="columnheader" class="num">
            #
          </span>
        </div>
        <div class="viewport" ref={viewport} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
          <div style={{ height: `${rows.length * ROW_HEIGHT}px`, position: "relative" }}>
            {rows.slice(first, last).map((hit, k) => {
              const i = first + k;
              const e = hit.event;
              const target = e.targets[0];
              const classes = [
                "row",
                i === active ? "active" : "",
                props.selected?.index === hit.index ? "selected" : "",
                props.fresh.has(hit.index) ? "fresh" : "",
              ];
              return (
                <div
                  key={hit.index}
                  id={`st-row-${hit.index}`}
                  role="row"
                  aria-rowindex={i + 2}
                  aria-selected={props.selected?.index === hit.index}
                  class={classes.join(" ")}
                  style={{ transform: `translateY(${i * ROW_HEIGHT}px)` }}
                  onClick={() => {
                    setActive(i);
                    props.onOpen(hit);
                  }}
                >
                  <span role="gridcell">{formatTime(e.occurredAt)}</span>
                  <span role="gridcell">{e.action}</span>
                  <span role="gridcell" title={e.actor.name ?? e.actor.id}>
                    {e.actor.name ? `${e.actor.name} (${e.actor.id})` : e.actor.id}
                  </span>
                  <span role="gridcell">
                    {target ? `${target.type}/${target.id}${e.targets.length > 1 ? ` +${e.targets.length - 1}` : ""}` : "—"}
                  </span>
                  <span role="gridcell">
                    <span class={`badge ${e.outcome}`}>{e.outcome}</span>
                  </span>
                  <span role="gridcell" class="num">
                    {hit.index}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <p class="status" aria-live="polite">
        {props.loading
          ? "Loading…"
          : rows.length === 0
            ? "No events match."
            : `${rows.length} ${rows.length === 1 ? "event" : "events"} shown${props.complete ? " (all)" : "; scroll for more"}`}
      </p>
    </div>
  );
}
