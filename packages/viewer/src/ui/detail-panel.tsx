import { formatQuery, type QueryFilter } from "@sealtrail/core";
import { useEffect, useState } from "preact/hooks";
import type { Api, EventDetail, Hit } from "./api.js";
import { diffChanges, formatTime } from "./format.js";
import { type VerifyResult, verifyEvent } from "./verify.js";

export interface DetailPanelProps {
  readonly api: Api;
  readonly hit: Hit;
  readonly trust: { verifierKey: string; origin: string; source: string } | undefined;
  readonly onPivot: (query: string) => void;
  readonly onClose: () => void;
}

function Field(props: { name: string; value: string | undefined }) {
  if (props.value === undefined || props.value === "") return null;
  return (
    <>
      <dt>{props.name}</dt>
      <dd>{props.value}</dd>
    </>
  );
}

/** Every field of one event, its changes as a diff, pivots, and the in-browser Verify. */
export function DetailPanel(props: DetailPanelProps) {
  const { hit } = props;
  const e = hit.event;
  const [result, setResult] = useState<VerifyResult | { error: string } | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => setResult(undefined), [hit.log, hit.index]);

  const verify = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      if (!props.trust) throw new Error("no verifier key is pinned for this log");
      const detail: EventDetail = await props.api.event(hit.log, e.id);
      setResult(await verifyEvent(detail, props.trust));
    } catch (error) {
      setResult({ error: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };

  const pivot = (filter: QueryFilter) => props.onPivot(formatQuery(filter));
  const target = e.targets[0];
  return (
    <aside class="detail" aria-labelledby="st-detail-title">
      <header>
        <h2 id="st-detail-title">{e.action}</h2>
        <button type="button" class="ghost" aria-label="Close details" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div class="pivots" role="group" aria-label="Show related events">
        <button type="button" onClick={() => pivot({ actor: [e.actor.id] })}>
          Same actor
        </button>
        {target && (
          <button type="button" onClick={() => pivot({ target: [{ type: target.type, id: target.id }] })}>
            Same target
          </button>
        )}
        {e.context?.requestId && (
          <button type="button" onClick={() => pivot({ requestId: [e.context?.requestId as string] })}>
            Same request
          </button>
        )}
      </div>
      <section class="verify">
        <button type="button" class="primary" onClick={verify} disabled={busy}>
          {busy ? "Verifying…" : "Verify"}
        </button>
        {result && "error" in result && (
          <p class="verdict bad" role="status">
            Could not verify: {result.error}
          </p>
        )}
        {result && "steps" in result && (
          <div role="status" class={`verdict ${result.ok ? "good" : "bad"}`} data-verified={result.ok ? "yes" : "no"}>
            <p>
              <strong>{result.ok ? "✔ " : "✘ "}</strong>
              {result.summary}
            </p>
            <ul>
              {result.steps.map((step) => (
                <li key={step.name} class={step.ok ? "ok" : "fail"}>
                  <strong>
                    {step.ok ? "✔" : "✘"} {step.name}:
                  </strong>{" "}
                  {step.detail}
                </li>
              ))}
            </ul>
            {props.trust && <p class="hint">Key: {props.trust.source}</p>}
          </div>
        )}
      </section>
      <EventFields hit={hit} />
    </aside>
  );
}

/** Every field of one event, its changes as a per-field diff, and its metadata. */
export function EventFields(props: { hit: Hit }) {
  const { hit } = props;
  const e = hit.event;
  const diff = e.changes ? diffChanges(e.changes.before, e.changes.after) : [];
  return (
    <>
      <dl>
        <Field name="Index" value={String(hit.index)} />
        <Field name="ID" value={e.id} />
        <Field name="Occurred (UTC)" value={formatTime(e.occurredAt)} />
        <Field name="Received (UTC)" value={formatTime(e.receivedAt)} />
        <Field name="Outcome" value={e.outcome} />
        <Field name="Actor" value={`${e.actor.type}/${e.actor.id}`} />
        <Field name="Actor name" value={e.actor.name} />
        <Field name="Actor email" value={e.actor.email} />
        {e.targets.map((t, i) => (
          <Field key={`${t.type}/${t.id}`} name={`Target ${i + 1}`} value={`${t.type}/${t.id}${t.name ? ` (${t.name})` : ""}`} />
        ))}
        <Field name="IP" value={e.context?.ip} />
        <Field name="User agent" value={e.context?.userAgent} />
        <Field name="Request" value={e.context?.requestId} />
        <Field name="Session" value={e.context?.sessionId} />
        <Field name="Location" value={e.context?.location} />
      </dl>
      {e.changes && (
        <section>
          <h3>Changes</h3>
          {diff.length === 0 ? (
            <p class="hint">Before and after are the same.</p>
          ) : (
            <table class="diff">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {diff.map((line) => (
                  <tr key={line.path} class={line.kind}>
                    <th scope="row">{line.path}</th>
                    <td class="before">{line.before ?? "—"}</td>
                    <td class="after">{line.after ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      {e.metadata && (
        <section>
          <h3>Metadata</h3>
          <pre>{JSON.stringify(e.metadata, null, 2)}</pre>
        </section>
      )}
    </>
  );
}
