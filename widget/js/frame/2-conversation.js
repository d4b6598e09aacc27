/**
 * The chat frame, part 2 of 4: drawing a path, the server (API calls and the event outbox) and
 * answering. Shares one scope with the other parts of widget/js/frame/ (joined by widget/build.py).
 */

// ---- Drawing a path ----------------------------------------------------------------------------

const INPUTS = new Set(["question", "capture", "meeting"]);
let flow = null;
let conversation = null; // the last STATE the server sent
let ended = false;

/** The cards of ``path`` as they are drawn: each answered card takes the next transcript entry,
 * the card awaiting the visitor gets controls, and a capture skipped (known) draws nothing. */
const itemsOf = (path, transcript, awaiting) => {
  const entries = [...(transcript || [])];
  const items = [];
  path.forEach((id, index) => {
    const card = flow.cards[id];
    if (!card) return;
    if (!INPUTS.has(card.type)) {
      items.push({ id, card });
    } else if (entries.length && entries[0].card === id) {
      items.push({ id, card, entry: entries.shift() });
    } else if (id === awaiting && index === path.length - 1) {
      items.push({ id, card, awaiting: true });
    }
  });
  return items;
};

const answerLabel = (card, entry) => {
  if (entry.type === "declined") return "Skip";
  if (entry.type === "booked") return "Booked a meeting";
  if (entry.type === "answer") {
    const chosen = (card.answers || []).find((a) => (a.value || a.label) === entry.value);
    return chosen ? fill(chosen.label) : entry.value;
  }
  return entry.value;
};

/** The bot's part of one card: its bubble(s), or nothing (goal, branch, end). */
const drawCard = (card) => {
  switch (card.type) {
    case "message":
    case "question":
      return card.text ? botText(card.text) : null;
    case "capture":
      return card.prompt ? botText(card.prompt) : null;
    case "meeting":
      return card.text ? botText(card.text) : null;
    default:
      return null;
  }
};

const hasText = (card) => (card.type === "capture" ? !!card.prompt : !!card.text);

const drawControls = (id, card, prompt) => {
  clearControls();
  if (card.type === "question") questionControls(id, card);
  else if (card.type === "capture") captureControls(id, card, prompt);
  else if (card.type === "meeting") meetingControls(id, card);
  focusFirst();
};

/** Draw ``items``; with ``paced``, a typing indicator of delay_ms before each bot message
 * (none before the very first one when ``firstAtOnce``). */
const draw = async (items, { paced = false, firstAtOnce = false } = {}) => {
  const drawing = generation;
  let first = firstAtOnce;
  for (const item of items) {
    if (paced && hasText(item.card) && !first) {
      if (!(await typing(Number(look.delay_ms) || 0, drawing))) return;
    }
    if (hasText(item.card)) first = false;
    const prompt = drawCard(item.card);
    if (item.entry) visitorText(answerLabel(item.card, item.entry));
    if (item.awaiting) drawControls(item.id, item.card, prompt);
  }
  if (conversation && conversation.state === "completed") finish();
};

const finish = () => {
  if (ended) return;
  ended = true;
  note("This conversation has ended.");
  disableControls();
  clearControls();
};

const redraw = (state) => {
  generation += 1;
  log.replaceChildren();
  clearControls();
  ended = false;
  draw(itemsOf(state.path || [], state.transcript, state.card));
};

// ---- The server --------------------------------------------------------------------------------

let token = null;
let pageUrl = "";

const api = async (method, path, body, keepalive = false, extra = {}) => {
  const headers = { ...extra };
  if (body) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(config.api + path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
    keepalive,
    credentials: "omit",
    // The server's Cache-Control decides: versions are immutable (cached), the rest no-store.
    // Only the origin, never the frame's URL: Origin and Referer name Dynchat itself.
    referrerPolicy: "origin",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const error = (data && data.error) || null;
  const retry = response.headers.get("Retry-After");
  return { status: response.status, data: data || {}, error, retry };
};

// Events wait in the outbox, numbered once the conversation is known; an answer is sent at
// once, opened/closed within a second, everything on pagehide. A retry keeps its seq: the server
// skips what it already took.
const outbox = [];
let nextSeq = 1;
let sending = false;
let flushTimer = 0;
let flushAt = Infinity;
let backoff = 0;
let stopped = false;

const number = () => {
  for (const item of outbox) if (!item.event.seq) item.event.seq = nextSeq++;
};

const schedule = (ms) => {
  const at = Date.now() + ms;
  if (at >= flushAt) return;
  clearTimeout(flushTimer);
  flushAt = at;
  flushTimer = setTimeout(flush, ms);
};

const record = (event, urgent = false) =>
  new Promise((resolve) => {
    if (stopped) return resolve({ error: { code: "stopped" } });
    outbox.push({ event, resolve });
    if (conversation) number();
    schedule(urgent ? 0 : EVENT_DELAY_MS);
  });

const stop = () => {
  stopped = true;
  token = null;
  for (const item of outbox.splice(0)) item.resolve({ error: { code: "stopped" } });
  finish();
};

const retryLater = (seconds) => {
  backoff = Math.min(Math.max(backoff * 2, 1), 30);
  schedule(1000 * (seconds || backoff));
};

const flush = async () => {
  clearTimeout(flushTimer);
  flushAt = Infinity;
  if (sending || stopped || !conversation || !outbox.length) return;
  sending = true;
  const batch = outbox.slice(0, MAX_BATCH);
  const body = { events: batch.map((item) => item.event) };
  if (pageUrl) body.url = pageUrl;
  let answer;
  try {
    answer = await api("POST", `/conversations/${conversation.id}/events`, body, true);
  } catch {
    sending = false;
    status("Connection lost. Retrying…");
    retryLater();
    return;
  }
  sending = false;
  settle(batch, answer);
  if (outbox.length && !stopped) schedule(0);
};

const settle = (batch, { status: code, data, error, retry }) => {
  const known = data.conversation;
  if (code >= 500 || (code === 429 && !known)) {
    status((code === 429 && error && error.message) || "Connection lost. Retrying…");
    retryLater(Number(retry) || 0);
    return;
  }
  backoff = 0;
  const line = byId("status");
  if (line) line.remove();
  if (!known) {
    // 401 token revoked or invalid, 404, a body the server refused: nothing more can be sent.
    for (const item of batch) item.resolve({ error: error || { code: "failed" } });
    stop();
    return;
  }
  const lastSeq = known.last_seq;
  outbox.splice(0, batch.length);
  nextSeq = lastSeq + 1;
  let refusal = error; // the first event not taken is the one refused
  const untaken = [];
  for (const item of batch) {
    if (item.event.seq <= lastSeq) {
      item.resolve({ state: known });
    } else if (refusal) {
      item.resolve({ error: refusal, state: known });
      refusal = null;
    } else {
      untaken.push(item);
    }
  }
  // Events after a refused one were not taken: they go again, numbered anew.
  for (const item of [...untaken, ...outbox]) delete item.event.seq;
  outbox.unshift(...untaken);
  number();
  if (error && error.code === "conversation_completed") stop();
};

const post = (message) => {
  if (embedded && config.host) window.parent.postMessage({ dynchat: 1, ...message }, config.host);
};
const announce = (name) => post({ type: "event", name, dialogue: conversation.dialogue });

let busy = false;

/** The visitor answered the card awaiting them: show it, send it, then draw where it led. */
const interact = async (event, shown, showError = (text) => status(text)) => {
  if (busy || ended) return;
  busy = true;
  disableControls();
  const row = visitorText(shown);
  const wasEngaged = conversation.state !== "triggered";
  const outcome = await record(event, true);
  busy = false;
  if (outcome.error) {
    if (outcome.error.code === "card_not_current") return reread();
    if (stopped) return;
    row.remove();
    for (const control of controls.querySelectorAll("[disabled]")) control.disabled = false;
    showError(outcome.error.message || "Something went wrong. Please try again.");
    return;
  }
  const state = outcome.state;
  conversation = { ...conversation, ...state };
  values = state.lead || values;
  clearControls();
  if (!wasEngaged) announce("engaged");
  const card = flow.cards[event.card];
  if (event.type === "capture" && card && card.input === "email") announce("email-captured");
  await draw(itemsOf(state.path || [], [], state.card), { paced: true });
  if (state.state === "completed") announce("completed");
};

const reread = async () => {
  const answer = await api("GET", `/conversations/${conversation.id}`);
  if (!answer.data.conversation) return stop();
  conversation = answer.data.conversation;
  values = conversation.lead || values;
  redraw(conversation);
};
