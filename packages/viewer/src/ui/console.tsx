import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createApi } from "./api.js";
import { EvidencePage } from "./evidence-page.js";
import "./styles.css";
import { type Trust, Viewer } from "./viewer.js";

// The API key lives in sessionStorage only: gone when the tab closes, never in a URL or a log line.
const KEY_ITEM = "sealtrail.apiKey";
const LOG_ITEM = "sealtrail.log";
const pinItem = (log: string) => `sealtrail.pinnedKey.${log}`;

// Opening an evidence bundle needs no key (an auditor has a file, not an API key): it lives at
// /#evidence, so it can be linked to and comes before sign-in.
const EVIDENCE_HASH = "#evidence";
const openEvidence = () => {
  location.hash = EVIDENCE_HASH;
};

function Login(props: { message: string | undefined; onLogin: (key: string, log: string) => void }) {
  const [key, setKey] = useState("");
  const [log, setLog] = useState(sessionStorage.getItem(LOG_ITEM) ?? "");
  return (
    <main class="login">
      <form
        aria-labelledby="st-login-title"
        onSubmit={(e) => {
          e.preventDefault();
          props.onLogin(key.trim(), log.trim());
        }}
      >
        <h1 id="st-login-title">Sealtrail</h1>
        <p class="hint">Sign in with an API key that may read the log (an admin or read key).</p>
        {props.message && (
          <p class="notice bad" role="alert">
            {props.message}
          </p>
        )}
        <label>
          API key
          <input type="password" name="key" autocomplete="off" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label>
          Log
          <input
            type="text"
            name="log"
            placeholder="e.g. acme (empty: pick one after signing in)"
            value={log}
            onInput={(e) => setLog(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
        <p class="hint">Have an evidence bundle? You can verify it without signing in.</p>
        <button type="button" onClick={openEvidence}>
          Open evidence bundle
        </button>
      </form>
    </main>
  );
}

/** For keys that may not list logs (only admin keys may): ask which log to open. */
function LogPrompt(props: { message: string | undefined; onPick: (log: string) => void }) {
  const [log, setLog] = useState("");
  return (
    <main class="login">
      <form
        aria-labelledby="st-log-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (log.trim()) props.onPick(log.trim());
        }}
      >
        <h1 id="st-log-title">Open a log</h1>
        {props.message && (
          <p class="notice bad" role="alert">
            {props.message}
          </p>
        )}
        <label>
          Log
          <input type="text" name="log" required value={log} onInput={(e) => setLog(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Open
        </button>
      </form>
    </main>
  );
}

/** Trust on first use: the first verifier key seen for a log is pinned in this browser; later Verifies use the pin. */
function trustFor(log: string, served: { verifierKey: string; origin: string }): Trust {
  const pinned = localStorage.getItem(pinItem(log));
  if (!pinned) {
    localStorage.setItem(pinItem(log), served.verifierKey);
    return { ...served, source: `pinned in this browser on first use: ${served.verifierKey}` };
  }
  const changed = pinned !== served.verifierKey ? " — the server now names a different key!" : "";
  return { verifierKey: pinned, origin: pinned.split("+")[0] as string, source: `pinned in this browser: ${pinned}${changed}` };
}

function Console() {
  const [key, setKey] = useState(sessionStorage.getItem(KEY_ITEM) ?? "");
  const [log, setLog] = useState(sessionStorage.getItem(LOG_ITEM) ?? "");
  const [logs, setLogs] = useState<string[]>([]);
  const [trust, setTrust] = useState<Trust | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [evidence, setEvidence] = useState(location.hash === EVIDENCE_HASH);
  const api = useMemo(() => createApi({ base: "", secret: key }), [key]);

  useEffect(() => {
    const follow = () => setEvidence(location.hash === EVIDENCE_HASH);
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);

  const logout = (why?: string) => {
    sessionStorage.removeItem(KEY_ITEM);
    setKey("");
    setTrust(undefined);
    setMessage(why);
  };

  useEffect(() => {
    if (!key) return;
    fetch("/v1/logs", { headers: { authorization: `Bearer ${key}` } })
      .then(async (r) => {
        if (r.ok) {
          const names = ((await r.json()) as { logs: string[] }).logs;
          setLogs(names);
          if (!log && names[0]) setLog(names[0]);
        } else if (r.status === 401) logout("That key was refused.");
      })
      .catch(() => setMessage("The server could not be reached."));
  }, [key]);

  useEffect(() => {
    if (!key || !log) return;
    sessionStorage.setItem(LOG_ITEM, log);
    setTrust(undefined);
    api
      .logInfo(log)
      .then((info) => setTrust(trustFor(log, info)))
      .catch((error) => {
        if (error.status === 401) logout("That key was refused.");
        else {
          setMessage(error.message);
          sessionStorage.removeItem(LOG_ITEM);
          setLog("");
        }
      });
  }, [api, log]);

  if (evidence) {
    return (
      <EvidencePage
        onClose={() => {
          history.pushState(null, "", location.pathname + location.search);
          setEvidence(false);
        }}
      />
    );
  }
  if (!key) {
    return (
      <Login
        message={message}
        onLogin={(k, l) => {
          sessionStorage.setItem(KEY_ITEM, k);
          setMessage(undefined);
          if (l) setLog(l);
          setKey(k);
        }}
      />
    );
  }
  if (!log) return <LogPrompt message={message} onPick={setLog} />;
  if (!trust) return <p class="notice">{message ?? "Loading…"}</p>;
  const toolbar = (
    <>
      {logs.length > 1 && (
        <label class="inline">
          Log
          <select value={log} onChange={(e) => setLog(e.currentTarget.value)}>
            {logs.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
      )}
      <button type="button" onClick={openEvidence}>
        Open evidence bundle
      </button>
      <button type="button" onClick={() => logout()}>
        Sign out
      </button>
    </>
  );
  return <Viewer key={log} api={api} log={log} trust={trust} toolbar={toolbar} onDenied={(error) => setMessage(error.message)} />;
}

render(
  <div class="st st-page">
    <Console />
  </div>,
  document.getElementById("app") as HTMLElement,
);
