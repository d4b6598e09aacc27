// The Configuration page: colour pickers beside the hex boxes, the contrast warning, the launcher
// as visitors will see it and the chat preview, all following the form as it is edited.
// Loaded with the page's CSP nonce; no inline code, no HTML strings.
"use strict";

(() => {
  const form = document.getElementById("configuration");
  const island = document.getElementById("cfg-preview-data");
  if (!form || !island) return;
  /** {appearance, icons, aa, pairs}: the page's appearance as public() gives it, and the rules. */
  const settings = JSON.parse(island.textContent);
  const HEX = /^#[0-9a-f]{6}$/i;
  const frame = document.getElementById("cfg-frame");
  const launcher = document.getElementById("cfg-launcher");
  const shape = launcher.querySelector("path");
  const poke = document.getElementById("cfg-poke");
  const warnings = document.getElementById("contrast-warnings");
  // The last valid value of each setting: a half-typed colour or offset keeps the previous one.
  const last = { ...settings.appearance };
  let open = true;
  let frameReady = false;
  let shownWarnings = null;

  // ---- WCAG 2 contrast, as widget/appearance.py computes it ------------------------------------

  const luminance = (hex) => {
    const [red, green, blue] = [1, 3, 5].map((start) => {
      const c = parseInt(hex.slice(start, start + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue;
  };

  const contrast = (first, second) => {
    const [lighter, darker] = [luminance(first), luminance(second)].sort((a, b) => b - a);
    return (lighter + 0.05) / (darker + 0.05);
  };

  const readableOn = (background) =>
    contrast("#ffffff", background) >= contrast("#111111", background) ? "#ffffff" : "#111111";

  // ---- The form's current values ---------------------------------------------------------------

  const value = (name) => {
    const field = form.elements.namedItem(name);
    return field ? String(field.value).trim() : "";
  };
  const checked = (name) => Boolean(form.elements.namedItem(name)?.checked);

  const colour = (name) => {
    const typed = value(name);
    if (HEX.test(typed)) last[name] = typed.toLowerCase();
    return last[name];
  };

  const whole = (name, low, high) => {
    const typed = value(name);
    const number = Number(typed);
    if (typed !== "" && Number.isInteger(number) && number >= low && number <= high) {
      last[name] = number;
    }
    return last[name];
  };

  const delayMs = () => {
    const typed = value("delay");
    const seconds = Number(typed);
    if (typed !== "" && Number.isFinite(seconds) && seconds >= 0 && seconds <= 5) {
      last.delay_ms = Math.round(seconds * 1000);
    }
    return last.delay_ms;
  };

  const privacyUrl = () => {
    const typed = value("privacy_url");
    if (!typed) return "";
    const url = /^[a-z][a-z0-9+.-]*:/i.test(typed) ? typed : `https://${typed}`;
    return /^https?:\/\/[^\s/]+/i.test(url) ? url : "";
  };

  /** The appearance as the loader and the frame receive it (Appearance.public). */
  const current = () => {
    const icon = settings.icons[value("icon")] ? value("icon") : last.icon;
    const appearance = {
      primary: colour("primary"),
      background: colour("background"),
      text: colour("text"),
      bot_bubble: colour("bot_bubble"),
      visitor_bubble: colour("visitor_bubble"),
      font: value("font"),
      position: value("position") === "left" ? "left" : "right",
      offset_x: whole("offset_x", 0, 200),
      offset_y: whole("offset_y", 0, 200),
      icon,
      bot_name: value("bot_name").slice(0, 40) || last.bot_name,
      delay_ms: delayMs(),
      poke: checked("poke"),
      poke_mobile: checked("poke_mobile"),
      privacy_url: privacyUrl(),
      avatar_url: settings.appearance.avatar_url,
      icon_path: settings.icons[icon],
    };
    appearance.on_primary = readableOn(appearance.primary);
    appearance.on_visitor_bubble = readableOn(appearance.visitor_bubble);
    return appearance;
  };

  // ---- What the page shows ---------------------------------------------------------------------

  /** The launcher, the poke and the panel where the loader puts them (widget/js/loader.js). */
  const draw = (a) => {
    const other = a.position === "left" ? "right" : "left";
    for (const element of [launcher, poke, frame]) {
      element.style[a.position] = `${a.offset_x}px`;
      element.style[other] = "auto";
    }
    launcher.style.bottom = `${a.offset_y}px`;
    launcher.style.backgroundColor = a.primary;
    launcher.style.color = a.on_primary;
    shape.setAttribute("d", a.icon_path);
    poke.style.bottom = `${a.offset_y + 68}px`;
    poke.style.fontFamily = a.font;
    poke.hidden = open || !a.poke;
    frame.style.bottom = `${a.offset_y + 68}px`;
    frame.style.maxHeight = `calc(100% - ${a.offset_y + 80}px)`;
    frame.style.maxWidth = `calc(100% - ${a.offset_x + 8}px)`;
    frame.hidden = !open;
  };

  /** The contrast warning, rewritten only when its text changes (it is a live region). */
  const warn = (a) => {
    const found = [];
    for (const [name, foreground, background] of settings.pairs) {
      const ratio = contrast(a[foreground], a[background]);
      if (ratio < settings.aa) {
        found.push(
          `${name}: contrast ${(Math.floor(ratio * 100) / 100).toFixed(2)}:1 is below WCAG AA (4.5:1).`,
        );
      }
    }
    const text = found.join("\n");
    if (text === shownWarnings) return;
    shownWarnings = text;
    if (!found.length) return void warnings.replaceChildren();
    const list = document.createElement("ul");
    list.className = "cfg-warnings";
    for (const line of found) {
      const item = document.createElement("li");
      item.textContent = line;
      list.append(item);
    }
    warnings.replaceChildren(list);
  };

  const send = (a) => {
    if (!frameReady || !frame.contentWindow) return;
    const message = { dynchat: 1, type: "appearance", appearance: a };
    frame.contentWindow.postMessage(message, location.origin);
  };

  const update = () => {
    const appearance = current();
    draw(appearance);
    warn(appearance);
    send(appearance);
  };

  // ---- Wiring ----------------------------------------------------------------------------------

  for (const box of form.querySelectorAll("input[data-colour]")) {
    const picker = document.querySelector(`input[data-picker-for="${box.id}"]`);
    if (!picker) continue;
    picker.hidden = false;
    if (HEX.test(box.value.trim())) picker.value = box.value.trim().toLowerCase();
    // The picker is inside the form: the form's own listener redraws after this.
    picker.addEventListener("input", () => {
      box.value = picker.value;
    });
    box.addEventListener("input", () => {
      const typed = box.value.trim();
      if (HEX.test(typed)) picker.value = typed.toLowerCase();
    });
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);

  launcher.addEventListener("click", () => {
    open = !open;
    launcher.setAttribute("aria-expanded", String(open));
    draw(current());
  });

  // The frame says "ready" once it listens; only then is it sent the form's values.
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.dynchat !== 1 || data.type !== "ready") return;
    frameReady = true;
    send(current());
  });
  if (frame.dataset.src) frame.src = frame.dataset.src;

  shownWarnings = [...warnings.querySelectorAll("li")].map((item) => item.textContent).join("\n");
  update();
})();
