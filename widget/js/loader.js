/*! Dynchat loader | AGPL-3.0-or-later */
/**
 * Runs in the customer's page, included as
 *   <script async src="https://chat.example.com/widget.js" data-site="KEY"></script>
 * It asks Dynchat whether chat is on for this page and, if so, draws the launcher inside a Shadow
 * DOM so that neither the page's styles nor ours leak across. It keeps one global, window.Dynchat,
 * and replays calls queued on it before it loaded.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const site = script && script.dataset.site;
  if (!site || (window.Dynchat && window.Dynchat.loaded)) return;

  const base = new URL(script.src).origin;
  const queued = (window.Dynchat && window.Dynchat.q) || [];
  const listeners = new Map();

  /** Tell the host page (DOM event) and listeners registered with Dynchat("on", ...). */
  const emit = (name, detail) => {
    document.dispatchEvent(new CustomEvent(`dynchat:${name}`, { detail }));
    for (const listener of listeners.get(name) || []) {
      try {
        listener(detail);
      } catch (error) {
        console.error(error);
      }
    }
  };

  const commands = {
    on(name, listener) {
      if (typeof listener === "function") {
        listeners.set(name, [...(listeners.get(name) || []), listener]);
      }
    },
  };

  const Dynchat = (name, ...args) => {
    const command = commands[name];
    if (command) command(...args);
  };
  Dynchat.loaded = true;
  window.Dynchat = Dynchat;
  for (const args of queued) Dynchat(...args);

  const css = `
    :host { all: initial; position: fixed; bottom: 20px; right: 20px; z-index: 2147483000; }
    button {
      width: 56px; height: 56px; border: 0; border-radius: 50%; cursor: pointer;
      background: #1f5eff; color: #fff; box-shadow: 0 4px 14px rgba(0, 0, 0, .25);
      display: grid; place-items: center;
    }
    button:focus-visible { outline: 3px solid #111; outline-offset: 3px; }
    svg { width: 28px; height: 28px; fill: currentColor; }
  `;

  const icon = () => {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z");
    svg.append(path);
    return svg;
  };

  const drawLauncher = () => {
    const host = document.createElement("div");
    host.setAttribute("data-dynchat", "");
    const root = host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not subject to the host page's style-src CSP.
    if ("adoptedStyleSheets" in root) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement("style");
      style.textContent = css;
      root.append(style);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-label", "Open chat");
    button.append(icon());
    button.addEventListener("click", () => emit("launcher-click", { site }));
    root.append(button);
    document.body.append(host);
  };

  const whenBodyReady = (callback) => {
    if (document.body) callback();
    else document.addEventListener("DOMContentLoaded", callback, { once: true });
  };

  // Query strings may carry personal data and never decide anything: send origin + path only.
  const page = location.origin + location.pathname;
  const query = `site=${encodeURIComponent(site)}&url=${encodeURIComponent(page)}`;
  fetch(`${base}/api/widget/v1/decide?${query}`, { credentials: "omit" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null)
    .then((decision) => {
      const enabled = Boolean(decision && decision.enabled);
      if (enabled) whenBodyReady(drawLauncher);
      emit("ready", { enabled });
    });
})();
