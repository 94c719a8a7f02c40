import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { type ApiError, createApi } from "./api.js";
import { tokenClaims } from "./format.js";
import css from "./styles.css?inline";
import { type Trust, Viewer } from "./viewer.js";

function Embedded(props: { token: string; server: string; verifierKey: string | null }) {
  const api = useMemo(() => createApi({ base: props.server, secret: props.token }), [props.server, props.token]);
  const claims = tokenClaims(props.token);
  const [trust, setTrust] = useState<Trust | undefined>();
  const [refused, setRefused] = useState<string | undefined>();

  useEffect(() => {
    setRefused(undefined);
    if (!claims) return;
    api
      .logInfo(claims.log)
      .then((info) =>
        setTrust(
          props.verifierKey
            ? {
                verifierKey: props.verifierKey,
                origin: props.verifierKey.split("+")[0] as string,
                source: "pinned by the page that embeds this viewer",
              }
            : { verifierKey: info.verifierKey, origin: info.origin, source: "as named by this server (the embedding page pinned none)" },
        ),
      )
      .catch((error) => setRefused(error instanceof Error ? error.message : String(error)));
  }, [api, claims?.log, props.verifierKey]);

  if (!claims) return <Refused message="This viewer needs a viewer token (stv_…)." />;
  if (refused) return <Refused message={`The server refused this viewer token: ${refused}.`} />;
  if (!trust) return <p class="notice">Loading…</p>;
  const scope = [claims.act ? `actor ${claims.act}` : "", claims.tgt ? `target ${claims.tgt.type}/${claims.tgt.id ?? "*"}` : ""].filter(
    Boolean,
  );
  return (
    <Viewer
      api={api}
      log={claims.log}
      trust={trust}
      scope={scope.length > 0 ? `Showing only events of ${scope.join(" and ")}` : undefined}
      onDenied={(error: ApiError) => setRefused(error.message)}
    />
  );
}

function Refused(props: { message: string }) {
  return (
    <div class="refused" role="alert">
      <h1>Audit trail unavailable</h1>
      <p>{props.message}</p>
    </div>
  );
}

/**
 * `<sealtrail-viewer token="stv_…" [server="https://audit.example.com"] [verifier-key="…"]>`: the
 * read-only viewer of the token's log. It renders into a shadow root, so the host page's CSS
 * cannot break it; the host themes it through the inherited `--st-*` custom properties.
 */
export class SealtrailViewerElement extends HTMLElement {
  static observedAttributes = ["token", "server", "verifier-key"];
  #root: ShadowRoot | undefined;

  connectedCallback(): void {
    if (!this.#root) {
      this.#root = this.attachShadow({ mode: "open" });
      // A constructed stylesheet, not a <style> element: it needs no 'unsafe-inline' in a CSP.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      this.#root.adoptedStyleSheets = [sheet];
    }
    this.#render();
  }

  attributeChangedCallback(): void {
    if (this.#root) this.#render();
  }

  disconnectedCallback(): void {
    if (this.#root) render(null, this.#root);
  }

  #render(): void {
    const root = this.#root as ShadowRoot;
    render(
      <div class="st">
        <Embedded
          token={this.getAttribute("token") ?? ""}
          server={(this.getAttribute("server") ?? "").replace(/\/$/, "")}
          verifierKey={this.getAttribute("verifier-key")}
        />
      </div>,
      root,
    );
  }
}

if (!customElements.get("sealtrail-viewer")) customElements.define("sealtrail-viewer", SealtrailViewerElement);
