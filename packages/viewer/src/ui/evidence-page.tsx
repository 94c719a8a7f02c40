import { toBase64 } from "@sealtrail/core";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Hit } from "./api.js";
import { EventFields } from "./detail-panel.js";
import { type BundleVerdict, ENCRYPTED, openEvidenceBundle } from "./evidence.js";
import { ResultsTable } from "./results-table.js";

const NO_FRESH: ReadonlySet<number> = new Set();

/**
 * Opens an evidence bundle (`sealtrail export`) from a file the user picks or drops and verifies it
 * here, in the browser: nothing is uploaded and no key or sign-in is needed, since an auditor has a
 * file, not an API key.
 */
export function EvidencePage(props: { onClose: () => void }) {
  const [file, setFile] = useState<File | undefined>();
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [result, setResult] = useState<{ name: string; verdict: BundleVerdict } | undefined>();
  const [selected, setSelected] = useState<Hit | undefined>();
  const title = useRef<HTMLHeadingElement>(null);
  const verdictRef = useRef<HTMLDivElement>(null);

  useEffect(() => title.current?.focus(), []);
  // Keyboard and screen-reader users land on the verdict as soon as it is known.
  useEffect(() => verdictRef.current?.focus(), [result]);

  const verify = async (chosen: File | undefined) => {
    if (!chosen) return;
    setBusy(true);
    setResult(undefined);
    setSelected(undefined);
    try {
      const verdict = await openEvidenceBundle(new Uint8Array(await chosen.arrayBuffer()), { verifierKey: key });
      setResult({ name: chosen.name, verdict });
    } finally {
      setBusy(false);
    }
  };
  const choose = (chosen: File | undefined) => {
    setFile(chosen);
    void verify(chosen);
  };

  const verdict = result?.verdict;
  const name = result?.name ?? "";
  return (
    <div class="viewer evidence">
      <header class="topbar">
        <h1 ref={title} tabIndex={-1}>
          Open evidence bundle
        </h1>
        <div class="toolbar">
          <button type="button" onClick={props.onClose}>
            Back to the console
          </button>
        </div>
      </header>
      <form
        class={dragging ? "bundle-form dragging" : "bundle-form"}
        aria-label="Evidence bundle"
        onSubmit={(e) => {
          e.preventDefault();
          void verify(file);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const dropped = e.dataTransfer?.files[0];
          if (dropped) choose(dropped);
        }}
      >
        <p class="hint">
          A zip made by <code>sealtrail export</code>. It is checked here, in your browser: nothing is uploaded. Choose the file or drop it
          on this box.
        </p>
        <label>
          Evidence bundle (.zip)
          <input type="file" name="bundle" accept=".zip,application/zip" onChange={(e) => choose(e.currentTarget.files?.[0])} />
        </label>
        <label>
          Verifier key of the log (optional)
          <input
            type="text"
            name="verifierKey"
            autocomplete="off"
            spellcheck={false}
            aria-describedby="st-key-hint"
            placeholder="e.g. sealtrail.local/acme+1234abcd+A…"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <p class="hint" id="st-key-hint">
          The key as the log's operator published it (<code>sealtrail keys</code>). Without it, the key inside the bundle is trusted, which
          proves only that the bundle is consistent with itself.
        </p>
        <button type="submit" class="primary" disabled={busy || !file}>
          {busy ? "Verifying…" : "Verify"}
        </button>
      </form>
      {verdict && !verdict.ok && (
        <div class="verdict bad" role="alert" tabIndex={-1} ref={verdictRef} data-verified="no">
          <p>
            <strong>✘ </strong>
            {name}: {verdict.summary}
          </p>
        </div>
      )}
      {verdict?.ok && (
        <>
          <div class="verdict good" role="status" tabIndex={-1} ref={verdictRef} data-verified="yes">
            <p>
              <strong>✔ </strong>
              {verdict.summary}
            </p>
            <dl class="facts">
              <dt>File</dt>
              <dd>{name}</dd>
              <dt>Log</dt>
              <dd>
                {verdict.evidence.log} (checkpoint origin {verdict.evidence.origin})
              </dd>
              <dt>Checkpoint</dt>
              <dd>
                tree size {verdict.evidence.checkpoint.treeSize}, root hash {toBase64(verdict.evidence.checkpoint.rootHash)}
              </dd>
              <dt>Verifier key</dt>
              <dd>{verdict.trust}</dd>
              <dt>Events verified</dt>
              <dd>
                {verdict.evidence.events.length}
                {verdict.encrypted > 0 &&
                  `; ${verdict.encrypted} personal value(s) in them are encrypted (crypto-shredding): proven as stored, shown as ${ENCRYPTED}`}
              </dd>
              <dt>Not included</dt>
              <dd>
                {verdict.evidence.notIncluded === 0
                  ? "none, says the exporter"
                  : `${verdict.evidence.notIncluded} matching event(s) newer than the checkpoint, says the exporter`}
              </dd>
              <dt>Query</dt>
              <dd>{verdict.evidence.query === "" ? "(every event)" : verdict.evidence.query} — stated by the exporter, not signed</dd>
              <dt>Created (UTC)</dt>
              <dd>{verdict.evidence.createdAt} — stated by the exporter, not signed</dd>
            </dl>
            <p class="hint">
              Not proven by a bundle: that the query, its time and the count of missing events are true (they are not signed), and that the
              log was not rewritten later. To check that, compare this checkpoint with one published elsewhere:{" "}
              <code>sealtrail verify --against</code>.
            </p>
          </div>
          <div class={selected ? "main with-detail" : "main"}>
            <ResultsTable
              query={verdict.evidence.query}
              rows={verdict.hits}
              selected={selected}
              fresh={NO_FRESH}
              loading={false}
              complete={true}
              onOpen={setSelected}
              onNeedMore={() => {}}
            />
            {selected && (
              <aside class="detail" aria-labelledby="st-detail-title">
                <header>
                  <h2 id="st-detail-title">{selected.event.action}</h2>
                  <button type="button" class="ghost" aria-label="Close details" onClick={() => setSelected(undefined)}>
                    ×
                  </button>
                </header>
                <p class="verdict good">
                  ✔ Proven by the bundle: this exact event is entry {selected.index} of {verdict.evidence.origin}, in the signed tree of{" "}
                  {verdict.evidence.checkpoint.treeSize} entries.
                </p>
                <EventFields hit={selected} />
              </aside>
            )}
          </div>
        </>
      )}
    </div>
  );
}
