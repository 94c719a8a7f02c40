import "./element.js";
import "./embed-page.css";

// The iframe route: /embed#token=stv_… . The token rides in the fragment, which browsers never
// send to servers or in Referer headers, and is removed from the address bar at once.
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token");
const element = document.querySelector("sealtrail-viewer");
if (token && element) {
  history.replaceState(null, "", location.pathname);
  element.setAttribute("token", token);
  const key = params.get("verifierKey");
  if (key) element.setAttribute("verifier-key", key);
}
