/**
 * The chat frame, part 4 of 4: opening, closing and starting a conversation, messages from the
 * loader, the Configuration page's preview, and the wiring that runs on load. Shares one scope with
 * the other parts of widget/js/frame/ (joined by widget/build.py).
 */

// ---- Opening, closing, starting ----------------------------------------------------------------

let pending = null; // a new conversation's first cards, drawn when the panel first opens

const setOpen = (open) => {
  if (open === isOpen) {
    if (open) focusFirst();
    return;
  }
  isOpen = open;
  if (!stopped && started) record({ type: open ? "opened" : "closed" });
  if (open && pending) {
    const items = pending;
    pending = null;
    draw(items, { paced: true, firstAtOnce: true });
  }
  if (open) focusFirst();
};

let started = false;

const startProblem = (answer) => {
  const error = answer && answer.error;
  note(error && error.code === "dialogue_completed" ? "This conversation has ended." :
    (error && error.message) || "The chat is not available right now.");
};

/** The loader's `start`: load the version (immutable) and start or resume the conversation. */
const start = async (message) => {
  if (started || !Number.isSafeInteger(message.version) || typeof message.visitor !== "string") {
    return;
  }
  started = true;
  pageUrl = typeof message.url === "string" ? message.url : "";
  isOpen = isOpen || message.open === true;
  if (isOpen) record({ type: "opened" });
  try {
    const site = encodeURIComponent(config.site);
    const body = { site: config.site, visitor: message.visitor, version: message.version };
    body.url = pageUrl;
    if (typeof message.mkto === "string" && message.mkto) body.mkto = message.mkto.slice(0, 500);
    // Neither needs the other: the flow (immutable, usually from the HTTP cache) and the start.
    const [version, answer] = await Promise.all([
      api("GET", `/versions/${message.version}?site=${site}`),
      api("POST", "/conversations", body),
    ]);
    if (!version.data.flow) return startProblem(version);
    flow = version.data.flow;
    if (!answer.data.token) return startProblem(answer);
    token = answer.data.token;
    conversation = answer.data.conversation;
  } catch {
    return note("The chat is not available right now.");
  }
  values = conversation.lead || values;
  nextSeq = conversation.last_seq + 1;
  number();
  if (outbox.length) schedule(EVENT_DELAY_MS);
  const items = itemsOf(conversation.path || [], conversation.transcript, conversation.card);
  if (conversation.transcript && conversation.transcript.length) {
    draw(items); // a resumed conversation: all at once, as it was
  } else if (isOpen) {
    draw(items, { paced: true, firstAtOnce: true });
  } else {
    pending = items;
  }
};

// ---- Messages from the loader (or the Configuration page, in preview) ---------------------------

const fromLoader = (data) => {
  switch (data.type) {
    case "start":
      return start(data);
    case "shown":
      return setOpen(data.open === true);
    case "revoke":
      return stop();
    case "font":
      if (!look.font) setFont(data.family);
      return undefined;
    default:
      return undefined;
  }
};

const listen = (origin, handle) => {
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || event.source !== window.parent) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.dynchat !== 1) return;
    try {
      handle(data);
    } catch (error) {
      console.error(error);
    }
  });
};

// ---- Preview: the Configuration page's sample chat, no API calls --------------------------------

const preview = () => {
  isOpen = true;
  botText(`Hi there! I'm ${look.bot_name || "Chat"}.`);
  botText("I can answer questions about our plans and book a demo.");
  botText("What brings you here today?");
  const group = el("div", "answers");
  for (const label of ["Pricing", "Book a demo"]) {
    const button = el("button", "answer", label);
    button.type = "button";
    group.append(button);
  }
  log.append(group);
  visitorText("Book a demo");
  botText("Great! What is your e-mail address?");
  const form = el("form", "capture");
  form.addEventListener("submit", (submitted) => submitted.preventDefault());
  const label = el("label", "sr-only", LABELS.email);
  label.htmlFor = "answer-input";
  const input = el("input");
  input.id = "answer-input";
  input.type = "email";
  input.placeholder = "you@example.com";
  const send = el("button", "send", "Send");
  send.type = "submit";
  const row = el("div", "row");
  row.append(input, send);
  form.append(label, row);
  controls.append(form);
  listen(location.origin, (data) => {
    if (data.type === "appearance") applyAppearance(data.appearance);
  });
  if (embedded) window.parent.postMessage({ dynchat: 1, type: "ready" }, location.origin);
};

// ---- Wiring ------------------------------------------------------------------------------------

applyAppearance(config.appearance);
byId("close").addEventListener("click", () => post({ type: "close" }));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") post({ type: "close" });
});
// Leaving the page: send what waits now (keepalive outlives the page). A batch already on its
// way goes again with the rest; the server skips the events it has.
window.addEventListener("pagehide", () => {
  if (!sending) return void flush();
  if (stopped || !conversation || !outbox.length) return;
  const events = outbox.slice(0, MAX_BATCH).map((item) => item.event);
  const path = `/conversations/${conversation.id}/events`;
  api("POST", path, { events, ...(pageUrl ? { url: pageUrl } : {}) }, true).catch(() => {});
});

if (config.preview) {
  preview();
} else if (embedded && config.host) {
  listen(config.host, fromLoader);
  post({ type: "ready" });
}
