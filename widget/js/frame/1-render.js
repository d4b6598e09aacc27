/**
 * The chat frame, part 1 of 4: shared settings and helpers, the appearance, rich text and
 * `{{lead.…}}` tokens, the message log and the answer controls.
 *
 * The frame runs in the chat iframe, on Dynchat's origin (widget/README.md). It waits for the
 * loader's `start`, runs the dialogue's flow as the server walks it (`path`), shows every message
 * with DOM APIs and textContent only, and sends what the visitor does as numbered events. The
 * conversation token lives in this closure and travels only in the Authorization header.
 *
 * widget/build.py joins the parts of widget/js/frame/ in name order inside one strict-mode
 * function: they share one scope, and a function in one part calls those of another.
 */

const config = JSON.parse(document.getElementById("dynchat-config").textContent);
const byId = (id) => document.getElementById(id);
const panel = byId("panel");
const log = byId("log");
const controls = byId("controls");
const embedded = window.parent !== window;
const MAX_BATCH = 50;
const EVENT_DELAY_MS = 1000;

/** An element with optional class and text. */
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- Appearance --------------------------------------------------------------------------------

const HEX = /^#[0-9a-fA-F]{6}$/;
const COLOURS = {
  primary: "--primary",
  on_primary: "--on-primary",
  background: "--background",
  text: "--text",
  bot_bubble: "--bot-bubble",
  visitor_bubble: "--visitor-bubble",
  on_visitor_bubble: "--on-visitor-bubble",
};
const FONT = /^[\w\s,'"-]{1,200}$/;
let look = {};

const setFont = (family) => {
  if (typeof family === "string" && FONT.test(family)) {
    document.documentElement.style.setProperty("--font", family);
  }
};

const parsedUrl = (value, base) => {
  try {
    return new URL(value, base);
  } catch {
    return null;
  }
};
const webUrl = (value) => {
  const url = parsedUrl(value);
  return url && (url.protocol === "https:" || url.protocol === "http:") ? url.href : null;
};

/** Apply the site's public appearance (widget/appearance.py) through CSS custom properties. */
const applyAppearance = (appearance) => {
  if (!appearance || typeof appearance !== "object") return;
  look = { ...look, ...appearance };
  const root = document.documentElement.style;
  for (const [key, property] of Object.entries(COLOURS)) {
    if (HEX.test(look[key] || "")) root.setProperty(property, look[key]);
  }
  if (look.font) setFont(look.font);
  const name = typeof look.bot_name === "string" && look.bot_name ? look.bot_name : "Chat";
  byId("bot-name").textContent = name;
  document.title = name;
  const avatar = byId("avatar");
  avatar.replaceChildren();
  const image = look.avatar_url && parsedUrl(look.avatar_url, location.href);
  if (image && image.origin === location.origin) {
    const img = el("img");
    img.alt = "";
    img.src = image.href;
    avatar.append(img);
  } else {
    avatar.textContent = name.charAt(0).toUpperCase();
  }
  const privacy = look.privacy_url && webUrl(look.privacy_url);
  byId("foot").hidden = !privacy;
  if (privacy) byId("privacy").href = privacy;
};

// ---- Rich text and tokens ----------------------------------------------------------------------

const TOKEN = /\{\{\s*(lead|company)\.([A-Za-z][A-Za-z0-9_]{0,99})(?::"([^"]*)")?\s*\}\}/g;
const ALLOWED = new Set(["B", "STRONG", "I", "EM", "A", "BR", "P"]);
const DROPPED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "IFRAME", "OBJECT", "EMBED"]);
const SCHEMES = new Set(["http:", "https:", "mailto:", "tel:"]);
let values = { lead: {}, company: {} };

const tokenValue = (object, field, fallback) => {
  const knownValues = values[object] || {};
  const value = Object.hasOwn(knownValues, field) ? knownValues[field] : null;
  const known = value !== undefined && value !== null && String(value).trim() !== "";
  return known ? String(value) : fallback || "";
};

/** Text with its personalisation tokens filled from the visitor's known values. */
const fill = (text, encode = (value) => value) =>
  String(text || "").replace(TOKEN, (_, object, field, fallback) =>
    encode(tokenValue(object, field, fallback)),
  );

/** A link target with an allowed scheme, or null (a javascript: link keeps no href). */
const safeHref = (raw) => {
  const url = raw === null ? null : parsedUrl(fill(raw, encodeURIComponent));
  return url && SCHEMES.has(url.protocol) ? url.href : null;
};

const copyNodes = (from, into) => {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      into.append(fill(node.data));
    } else if (node.nodeType === Node.ELEMENT_NODE && !DROPPED.has(node.tagName)) {
      if (!ALLOWED.has(node.tagName)) {
        copyNodes(node, into);
        continue;
      }
      const copy = document.createElement(node.tagName.toLowerCase());
      if (node.tagName === "A") {
        const href = safeHref(node.getAttribute("href"));
        if (href) {
          copy.href = href;
          copy.rel = "noopener noreferrer";
          copy.target = "_blank";
        }
      }
      copyNodes(node, copy);
      into.append(copy);
    }
  }
};

/** The server-sanitised rich text, parsed inert and rebuilt from allowed elements only. */
const richText = (html, into) => {
  const parsed = new DOMParser().parseFromString(String(html || ""), "text/html");
  copyNodes(parsed.body, into);
  return into;
};

// ---- The message log ---------------------------------------------------------------------------

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
let generation = 0; // bumped by every full redraw: a stale, delayed drawing stops

const scrollDown = () => {
  log.scrollTop = log.scrollHeight;
};

const bubble = (who, content) => {
  const row = el("div", `msg ${who}`);
  if (!reducedMotion.matches) row.classList.add("enter");
  row.append(el("span", "sr-only", who === "bot" ? `${look.bot_name || "Chat"}: ` : "You: "));
  row.append(content);
  log.append(row);
  scrollDown();
  return row;
};

const botText = (html) => bubble("bot", richText(html, el("div", "text")));
const visitorText = (text) => bubble("visitor", el("div", "text", text));
const note = (text) => {
  const line = el("p", "note", text);
  log.append(line);
  scrollDown();
  return line;
};

const typing = async (ms, drawing) => {
  const dots = el("div", "msg bot typing");
  dots.setAttribute("aria-hidden", "true");
  dots.append(el("span"), el("span"), el("span"));
  log.append(dots);
  scrollDown();
  await sleep(ms);
  dots.remove();
  return drawing === generation;
};

// ---- Controls ----------------------------------------------------------------------------------

let isOpen = false;

const clearControls = () => controls.replaceChildren();
const disableControls = () => {
  for (const control of controls.querySelectorAll("button, input, select")) {
    control.disabled = true;
  }
};
/** Focus the visitor's first control, only while focus is in the frame: a panel reopened as a
 * page loads must not take focus from the host page. */
const focusFirst = () => {
  if (!isOpen || !document.hasFocus()) return;
  const first = controls.querySelector("button:not([disabled]), input:not(.hp), select");
  (first || panel).focus({ preventScroll: true });
};

const status = (text) => {
  let line = byId("status");
  if (!line) {
    line = el("p", "status");
    line.id = "status";
    line.setAttribute("role", "status");
    controls.append(line);
  }
  line.textContent = text;
};

// What the server checks (dialogues/runtime.py clean_value), checked here first for instant
// feedback; the server's own message is shown whenever it refuses.
const PHONE = /^\+?[0-9 ().-]{5,30}$/;
const EMAIL = /^[^\s@]+@(?:[^\s@]+\.[^\s@]+|localhost)$/i;
const NAMES = new Set(["firstName", "lastName"]);
const FORBIDDEN = /(?![\t\n])\p{Cc}|\p{Cs}/u; // control characters but tab and newline

const problemWith = (card, raw) => {
  if (FORBIDDEN.test(raw)) return "The value contains control characters.";
  const value = raw.trim();
  if (!value) return "Please enter a value.";
  switch (card.input) {
    case "email":
      if (value.length > 254) return "An e-mail address has at most 254 chars.";
      return EMAIL.test(value) ? null : "Enter a valid e-mail address.";
    case "phone":
      return PHONE.test(value) ? null : "Enter a valid phone number.";
    case "picklist":
      return (card.options || []).includes(value) ? null : "Choose one of the options.";
    default: {
      const limit = NAMES.has(card.field) ? 200 : 4000;
      return value.length > limit ? `At most ${limit} characters, please.` : null;
    }
  }
};

const LABELS = {
  email: "Your e-mail address",
  phone: "Your phone number",
  picklist: "Choose an option",
  text: "Your answer",
};
const AUTOCOMPLETE = {
  email: "email",
  phone: "tel",
  firstName: "given-name",
  lastName: "family-name",
  company: "organization",
};

const questionControls = (id, card) => {
  const group = el("div", "answers");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "Answers");
  for (const answer of card.answers || []) {
    const button = el("button", "answer", fill(answer.label));
    button.type = "button";
    button.addEventListener("click", () =>
      interact({ type: "answer", card: id, answer: answer.id }, fill(answer.label)),
    );
    group.append(button);
  }
  controls.append(group);
};

const captureControls = (id, card, prompt) => {
  const form = el("form", "capture");
  form.noValidate = true;
  const text = prompt && prompt.querySelector(".text").textContent.trim();
  const label = el("label", "sr-only", text || LABELS[card.input]);
  label.htmlFor = "answer-input";
  let input;
  if (card.input === "picklist") {
    input = el("select");
    const choose = el("option", "", fill(card.placeholder) || "Choose…");
    choose.value = "";
    input.append(choose);
    for (const option of card.options || []) input.append(el("option", "", option));
  } else {
    input = el("input");
    input.type = { email: "email", phone: "tel" }[card.input] || "text";
    if (card.input === "email") input.inputMode = "email";
    input.maxLength = card.input === "email" ? 254 : NAMES.has(card.field) ? 200 : 4000;
    input.placeholder = fill(card.placeholder);
  }
  input.id = "answer-input";
  input.autocomplete = AUTOCOMPLETE[card.input] || AUTOCOMPLETE[card.field] || "off";
  const error = el("p", "error");
  error.id = "answer-error";
  error.hidden = true;
  input.setAttribute("aria-describedby", "answer-error");
  // The honeypot: invisible and unreachable for people and assistive technology; bots fill it.
  const trap = el("div", "hp");
  trap.setAttribute("aria-hidden", "true");
  const hp = el("input", "hp");
  hp.type = "text";
  hp.name = "website";
  hp.tabIndex = -1;
  hp.autocomplete = "off";
  trap.append(hp);
  const send = el("button", "send", "Send");
  send.type = "submit";
  const row = el("div", "row");
  row.append(input, send);
  form.append(label, row, error, trap);
  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
    input.setAttribute("aria-invalid", text ? "true" : "false");
    if (text) input.focus();
  };
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const problem = problemWith(card, input.value);
    if (problem) return showError(problem);
    showError("");
    const event = { type: "capture", card: id, value: input.value.trim() };
    if (hp.value) event.hp = hp.value.slice(0, 200);
    interact(event, event.value, showError);
  });
  controls.append(form);
};
