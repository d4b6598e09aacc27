/**
 * The chat frame, part 3 of 4: the meeting card. Its days and times come from the server
 * (`GET …/slots`, labelled in the visitor's own time zone), a time is booked with one click
 * (`POST …/bookings`, with an Idempotency-Key so a retry never books twice), and the answer
 * says when and with whom, offers an .ics file and walks the conversation on. Shares one scope
 * with the other parts of widget/js/frame/ (joined by widget/build.py).
 */

const DAYS_SHOWN = 7;
const TIMES_SHOWN = 9;
const TAKEN = new Set(["slot_taken", "agent_busy", "slot_held", "hold_expired", "invalid_slot"]);

const visitorZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
};

/** 16 random bytes, hex: an Idempotency-Key. */
const newKey = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

const button = (text, className, onClick) => {
  const node = el("button", className, text);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
};

/** "Tue 3 Dec, 10:00" → ["Tue 3 Dec", "10:00"]. */
const splitLabel = (label) => {
  const at = label.lastIndexOf(", ");
  return at < 0 ? [label, label] : [label.slice(0, at), label.slice(at + 2)];
};

// ---- Add to calendar: an .ics file made from the booking's answer ------------------------------

const icsTime = (iso) => String(iso).replace(/\.\d+/, "").replace(/[-:]/g, "");
const icsText = (text) => String(text).replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");

const icsHref = (booked) => {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Dynchat//Chat//EN",
    "BEGIN:VEVENT",
    `UID:${icsText(booked.uid || `dynchat-meeting-${booked.meeting}`)}`,
    `DTSTAMP:${icsTime(new Date().toISOString())}`,
    `DTSTART:${icsTime(booked.start)}`,
    `DTEND:${icsTime(booked.end)}`,
    `SUMMARY:${icsText(`Meeting with ${booked.agent}`)}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ];
  return `data:text/calendar;charset=utf-8,${encodeURIComponent(lines.join("\r\n"))}`;
};

const confirmation = (booked) => {
  const box = el("div", "text");
  box.append(el("p", "", `Booked: ${booked.label} with ${booked.agent}`));
  const link = el("a", "", "Add to calendar");
  link.href = icsHref(booked);
  link.download = "meeting.ics";
  const line = el("p");
  line.append(link);
  box.append(line);
  return bubble("bot", box);
};

// ---- The card's controls -----------------------------------------------------------------------

const meetingControls = (id, card, notice = "") => {
  const zone = visitorZone();
  const box = el("div", "meeting");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Book a meeting");
  const message = el("p", "error", notice);
  message.id = "meeting-error";
  message.setAttribute("role", "alert");
  message.hidden = !notice;
  const days = el("div", "answers");
  days.setAttribute("role", "group");
  days.setAttribute("aria-label", "Days");
  const times = el("div", "answers");
  times.setAttribute("role", "group");
  const loading = el("p", "status", "Finding free times…");
  loading.setAttribute("role", "status");
  box.append(message, loading, days, times);
  const skip = el("div", "answers");
  skip.append(button("Skip", "answer", () => interact({ type: "decline", card: id }, "Skip")));
  controls.append(box, skip);
  const keys = {}; // one Idempotency-Key per slot: a retry of the same slot replays its booking

  const say = (text) => {
    message.textContent = text;
    message.hidden = !text;
  };

  const showTimes = (day, slots, from = 0) => {
    times.replaceChildren();
    times.setAttribute("aria-label", `Times on ${day}`);
    for (const slot of slots.slice(from, from + TIMES_SHOWN)) {
      times.append(button(splitLabel(slot.label)[1], "answer", () => choose(slot)));
    }
    if (slots.length > from + TIMES_SHOWN) {
      times.append(
        button("Later times", "answer", () => {
          showTimes(day, slots, from + TIMES_SHOWN);
          focusFirstIn(times);
        }),
      );
    }
  };

  const focusFirstIn = (group) => {
    const first = group.querySelector("button:not([disabled])");
    if (first) first.focus({ preventScroll: true });
  };

  let duration = 30;
  const load = async () => {
    loading.hidden = false;
    days.replaceChildren();
    times.replaceChildren();
    const query = `card=${encodeURIComponent(id)}&tz=${encodeURIComponent(zone)}`;
    let answer;
    try {
      answer = await api("GET", `/conversations/${conversation.id}/slots?${query}`);
    } catch {
      answer = { status: 0, data: {}, error: null };
    }
    loading.hidden = true;
    if (answer.error && answer.error.code === "card_not_current") return reread();
    const slots = answer.data.slots;
    if (answer.status !== 200 || !Array.isArray(slots)) {
      say((answer.error && answer.error.message) || "Free times cannot be loaded right now.");
      days.append(button("Try again", "answer", () => (say(""), load())));
      return;
    }
    duration = answer.data.duration;
    if (!slots.length) return say("No times are free right now.");
    const byDay = new Map();
    for (const slot of slots) {
      const day = splitLabel(slot.label)[0];
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push(slot);
    }
    const dayButtons = [];
    for (const [day, daySlots] of [...byDay].slice(0, DAYS_SHOWN)) {
      const dayButton = button(day, "answer", () => {
        for (const other of dayButtons) {
          other.className = other === dayButton ? "send" : "answer";
          other.setAttribute("aria-pressed", String(other === dayButton));
        }
        showTimes(day, daySlots);
      });
      dayButton.setAttribute("aria-pressed", "false");
      dayButtons.push(dayButton);
      days.append(dayButton);
    }
    dayButtons[0].click();
    focusFirst();
  };

  const choose = async (slot) => {
    if (busy || ended) return;
    busy = true;
    say("");
    disableControls();
    keys[slot.start] = keys[slot.start] || newKey();
    const body = { card: id, start: slot.start, duration, time_zone: zone };
    const path = `/conversations/${conversation.id}/bookings`;
    let answer;
    try {
      answer = await api("POST", path, body, false, { "Idempotency-Key": keys[slot.start] });
    } catch {
      answer = { status: 0, data: {}, error: { message: "Connection lost. Please try again." } };
    }
    busy = false;
    const error = answer.error;
    if (answer.status === 200 || answer.status === 201) return booked(answer.data);
    if (error && error.code === "card_not_current") return reread();
    for (const control of controls.querySelectorAll("[disabled]")) control.disabled = false;
    if (error && TAKEN.has(error.code)) {
      say("That time was just taken — pick another");
      return load();
    }
    say((error && error.message) || "Something went wrong. Please try again.");
  };

  const booked = async (data) => {
    clearControls();
    visitorText(data.label);
    confirmation(data);
    const state = data.conversation || {};
    conversation = { ...conversation, ...state };
    values = state.lead || values;
    announce("meeting-booked");
    await draw(itemsOf(data.path || [], [], state.card), { paced: true });
    if (state.state === "completed") announce("completed");
  };

  load();
};
