/*! Dynchat loader | AGPL-3.0-or-later */
/**
 * Runs in the customer's page, included as
 *   <script async src="https://chat.example.com/widget.js" data-site="KEY"></script>
 * It asks Dynchat which dialogue (if any) this page shows, draws the launcher and the poke inside a
 * Shadow DOM (no styles leak across), fires the dialogue's trigger and opens the chat frame (an
 * iframe on Dynchat's origin) in a panel. It keeps one global, window.Dynchat, and replays calls
 * queued on it before it loaded. The contract with the frame and the server: widget/README.md.
 *
 * Storage (dynchat.* keys) only once allowed: the site needs no consent, the page granted it or
 * the visitor clicked the launcher; never after a revoke. Nothing here may throw into the page.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const site = script && script.dataset.site;
  if (!site || (window.Dynchat && window.Dynchat.loaded)) return;

  const base = new URL(script.src).origin;
  const queued = (window.Dynchat && window.Dynchat.q) || [];
  const listeners = new Map();
  const started = Date.now();
  // Query strings may carry personal data and never decide anything: send origin + path only.
  const page = location.origin + location.pathname;
  const PREFIX = "dynchat.";
  const LOCAL = "localStorage";
  const SESSION = "sessionStorage";
  const FRAME_EVENTS = ["engaged", "completed", "email-captured", "meeting-booked"];

  const read = (area, key) => {
    try {
      return window[area].getItem(PREFIX + key);
    } catch {
      return null; // storage blocked (SecurityError) or missing
    }
  };

  let revoked = false;
  let visitor = read(LOCAL, "visitor");
  if (!/^[\w-]{16,64}$/.test(visitor)) visitor = null;
  // A stored id means storage was allowed when it was stored (a revoke deletes it).
  let allowed = Boolean(visitor);
  const first = Number(read(LOCAL, "first")) || started;

  const write = (area, key, value) => {
    try {
      if (allowed) window[area].setItem(PREFIX + key, value);
    } catch {}
  };

  let mkto = "";
  try {
    mkto = (document.cookie.match(/(?:^|;\s*)_mkto_trk=([^;]*)/) || [])[1] || "";
  } catch {}
  if (mkto.length > 500) mkto = "";

  /** POST a visitor message (JSON, no credentials, outliving the page); failures are ignored. */
  const tell = (path, body) =>
    fetch(`${base}/api/widget/v1/visitors/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ site, ...body }),
      credentials: "omit",
      keepalive: true,
    }).catch(() => {});

  let identity = null; // Dynchat("identify", ...), sent once a visitor id exists
  let identified = null; // the visitor id it was sent for
  const identify = () => {
    if (identity && visitor && identified !== visitor) {
      identified = visitor;
      tell("identify", { visitor, ...identity });
    }
  };

  /** The visitor id: 16 random bytes, base64url (22 characters); kept only when allowed. */
  const visitorId = () => {
    visitor =
      visitor ||
      btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=/g, "");
    write(LOCAL, "visitor", visitor);
    identify();
    return visitor;
  };

  let dialogue = null; // the decision's dialogue, once a launcher is drawn
  let appearance = {};
  let wrapper, launcher, poke, frame;
  let frameReady = false;
  let isOpen = false;
  let wantOpen = false;
  let fired = false;

  /** Once triggered and allowed, the frame starts the conversation (which counts the trigger)
   * before the click. */
  const prepare = () => afterLoad(() => fired && allowed && ensureFrame());

  const allow = () => {
    if (revoked) return;
    allowed = true;
    visitorId();
    if (!read(LOCAL, "first")) write(LOCAL, "first", String(first));
    if (fired) prepare();
  };

  const detail = () => ({ dialogue: dialogue && dialogue.id });

  /** Tell the host page (DOM event) and listeners registered with Dynchat("on", ...). */
  const emit = (name, data) => {
    document.dispatchEvent(new CustomEvent(`dynchat:${name}`, { detail: data }));
    for (const listener of listeners.get(name) || []) {
      try {
        listener(data);
      } catch (error) {
        console.error(error);
      }
    }
  };

  const send = (type, fields) => {
    try {
      frame.contentWindow.postMessage({ dynchat: 1, type, ...fields }, base);
    } catch {}
  };

  const hostFont = () => {
    try {
      return getComputedStyle(document.body).fontFamily;
    } catch {
      return "";
    }
  };

  /** Once the host page has loaded (never delay its load event), a moment later. */
  const afterLoad = (callback) => {
    const later = () => setTimeout(callback, 0);
    if (document.readyState === "complete") later();
    else addEventListener("load", later, { once: true });
  };

  const ensureFrame = () => {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.title = "Chat";
    const query = new URLSearchParams({ site, host: location.origin });
    frame.src = `${base}/widget/frame?${query}`;
    wrapper.append(frame);
  };

  const start = () => {
    send("start", {
      visitor: visitorId(),
      mkto,
      url: page,
      version: dialogue.version,
      open: isOpen,
    });
    if (!appearance.font) send("font", { family: hostFont() });
  };

  const setOpen = (open) => {
    isOpen = open;
    wrapper.classList.toggle("o", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    write(SESSION, "open", open ? "1" : "0");
    if (frameReady) send("shown", { open });
  };

  /** Show the panel; a click by the visitor also allows storage (README "Storage"). */
  const open = (byVisitor, focus = true) => {
    if (!launcher) {
      wantOpen = true;
      return;
    }
    if (byVisitor) allow();
    ensureFrame();
    if (poke) poke.remove();
    if (!isOpen) setOpen(true);
    if (focus) frame.focus();
  };

  const close = () => {
    wantOpen = false;
    if (!isOpen) return;
    setOpen(false);
    launcher.focus();
    emit("closed", detail());
  };

  const button = (className, label, onClick) => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = className;
    if (label) element.setAttribute("aria-label", label);
    element.addEventListener("click", onClick);
    return element;
  };

  const showPoke = () => {
    if (!appearance.poke || !dialogue.poke || isOpen) return;
    poke = document.createElement("div");
    poke.className = "p";
    poke.style.fontFamily = appearance.font || hostFont();
    const text = button("t", "", () => open(true));
    text.textContent = dialogue.poke;
    const dismiss = button("x", "Dismiss", () => poke.remove());
    dismiss.textContent = "×";
    poke.append(text, dismiss);
    wrapper.append(poke);
  };

  const fire = () => {
    if (fired) return;
    fired = true;
    emit("triggered", detail());
    showPoke();
    prepare();
  };

  const schedule = ({ kind, amount }) => {
    amount = Number(amount) || 0;
    if (kind === "scroll") {
      const check = () => {
        const room = document.documentElement.scrollHeight - innerHeight;
        if (room > 0 && (scrollY / room) * 100 < amount) return;
        removeEventListener("scroll", check);
        fire();
      };
      addEventListener("scroll", check, { passive: true });
      afterLoad(check);
    } else {
      const since = kind === "time_on_site" ? first : started;
      setTimeout(fire, amount * 1000 - (Date.now() - since));
    }
  };

  const colour = (value, fallback) => (/^#[0-9a-f]{6}$/i.test(value) ? value : fallback);
  const px = (value, fallback) => (Number.isInteger(value) && value >= 0 && value <= 200 ? value : fallback);

  const styles = (a) => {
    const side = a.position === "left" ? "left" : "right";
    const x = px(a.offset_x, 20);
    const y = px(a.offset_y, 20);
    return `:host{all:initial}
.l,.p,iframe{position:fixed;${side}:${x}px;z-index:2147483000;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.l{bottom:${y}px;width:56px;height:56px;padding:0;border:0;border-radius:50%;cursor:pointer;display:grid;place-items:center;background:${colour(a.primary, "#1f5eff")};color:${colour(a.on_primary, "#ffffff")}}
button:focus-visible{outline:3px solid #111;outline-offset:3px}
svg{width:28px;height:28px;fill:currentColor}
iframe{display:none;bottom:${y + 68}px;width:380px;height:600px;max-height:calc(100vh - ${y + 80}px);max-width:calc(100% - ${x + 8}px);border:0;border-radius:12px;background:#fff}
.o iframe{display:block}
.p{bottom:${y + 68}px;max-width:min(280px,calc(100% - ${x + 16}px));padding:12px 30px 12px 14px;border-radius:12px;background:#fff;color:#1d2433;font-size:15px;line-height:1.4}
.t{all:unset;cursor:pointer}
.x{all:unset;position:absolute;top:4px;right:8px;cursor:pointer;font-size:18px;line-height:1}
@media (prefers-reduced-motion:no-preference){.l{transition:transform .15s}.l:hover{transform:scale(1.06)}}
@media (max-width:479px){iframe{inset:0;width:100%;height:100dvh;max-height:none;max-width:none;border-radius:0}.o .l{display:none}${a.poke_mobile ? "" : ".p{display:none}"}}`;
  };

  const icon = (path) => {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", String(path || "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"));
    svg.append(shape);
    return svg;
  };

  const render = (answer) => {
    dialogue = answer.dialogue;
    appearance = answer.appearance || {};
    const host = document.createElement("div");
    host.setAttribute("data-dynchat", "");
    const root = host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not subject to the host page's style-src CSP.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(styles(appearance));
    root.adoptedStyleSheets = [sheet];
    wrapper = document.createElement("div");
    wrapper.addEventListener("keydown", (event) => event.key === "Escape" && close());
    launcher = button("l", "Open chat", () => (isOpen ? close() : open(true)));
    launcher.setAttribute("aria-expanded", "false");
    launcher.append(icon(appearance.icon_path));
    wrapper.append(launcher);
    root.append(wrapper);
    document.body.append(host);
    if (answer.outcome === "continue") {
      // The visitor has a conversation: no trigger; the panel reopens where it was open.
      afterLoad(() => {
        if (!allowed) return;
        ensureFrame();
        if (read(SESSION, "open") === "1") open(false, false);
      });
    } else {
      schedule(dialogue.trigger || {});
    }
    if (wantOpen) open(false);
  };

  addEventListener("message", (event) => {
    if (!frame || event.origin !== base || event.source !== frame.contentWindow) return;
    try {
      const data = event.data;
      if (!data || data.dynchat !== 1) return;
      if (data.type === "ready") {
        frameReady = true;
        start();
      } else if (data.type === "close") {
        close();
      } else if (data.type === "event" && FRAME_EVENTS.includes(data.name)) {
        emit(data.name, detail());
      }
    } catch {}
  });

  const revoke = () => {
    const old = visitor;
    revoked = true;
    allowed = false;
    visitor = null; // a new id, if needed, lives in memory only
    for (const area of [LOCAL, SESSION]) {
      try {
        const storage = window[area];
        for (let i = storage.length; i--; ) {
          const key = storage.key(i);
          if (key && key.startsWith(PREFIX)) storage.removeItem(key);
        }
      } catch {}
    }
    if (old) tell("withdraw", { visitor: old });
    send("revoke");
  };

  const commands = {
    open: () => open(false),
    close,
    identify: (data) => {
      const ts = Number(data && data.ts);
      if (data && typeof data.email === "string" && Number.isInteger(ts)) {
        identity = { email: data.email, ts };
        if (typeof data.hash === "string") identity.hash = data.hash;
        identified = null;
        identify();
      }
    },
    "consent.grant": allow,
    "consent.revoke": revoke,
    on: (name, listener) => {
      if (typeof listener === "function") {
        listeners.set(name, [...(listeners.get(name) || []), listener]);
      }
    },
  };

  const Dynchat = (name, ...args) => {
    try {
      if (Object.hasOwn(commands, name)) commands[name](...args);
    } catch (error) {
      console.error(error);
    }
  };
  Dynchat.loaded = true;
  window.Dynchat = Dynchat;
  for (const args of queued) Dynchat(...args);

  const query = new URLSearchParams({ site, url: page });
  if (allowed) query.set("visitor", visitor);
  if (mkto) query.set("mkto", mkto);
  fetch(`${base}/api/widget/v1/decide?${query}`, { credentials: "omit" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null)
    .then((answer) => {
      const enabled = Boolean(answer && answer.enabled);
      const shows = enabled && answer.outcome !== "none" && answer.dialogue;
      if (enabled && !answer.consent) allow();
      const ready = () => {
        try {
          if (shows) render(answer);
        } catch (error) {
          console.error(error);
        }
        emit("ready", shows ? { enabled, dialogue: answer.dialogue.id } : { enabled });
      };
      if (document.body) ready();
      else document.addEventListener("DOMContentLoaded", ready, { once: true });
    })
    .catch(() => {});
})();
