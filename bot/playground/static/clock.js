/* The playground's time control: the simulated clock in the header, ×1 / ×60, and Jump to the
 * next deadline; and a countdown beside every time the bot wrote (<!date^…>), by that clock.
 *
 * The server sends the simulated now and its rate in the state the page polls (`clock`), and
 * after each change (POST /api/clock {"rate": 1|60}, POST /api/clock/jump); between two, this
 * runs the clock on locally at its rate, so the header moves without asking the server.
 */
"use strict";

const Clock = (() => {
  const $ = (id) => document.getElementById(id);
  const shown = { now: Date.now() / 1000, rate: 1, rates: [], next: null, at: performance.now() };
  let jumping = false;

  // the simulated now, in milliseconds since the epoch
  function now() {
    return shown.now * 1000 + (performance.now() - shown.at) * (shown.rate || 1);
  }

  function sync(clock) {
    if (!clock || typeof clock.now !== "number") return;
    Object.assign(shown, { now: clock.now, rate: clock.rate, rates: clock.rates || [], next: clock.next, at: performance.now() });
    paint();
  }

  function clockText(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  }

  function span(seconds) {
    const minutes = Math.round(Math.abs(seconds) / 60);
    if (minutes < 60) return `${minutes} min`;
    const rest = minutes % 60;
    return `${Math.floor(minutes / 60)} h` + (rest ? ` ${rest} min` : "");
  }

  // "in 12 min", "3 min ago", "now": how far an instant is from the simulated now
  function until(at) {
    const seconds = at - now() / 1000;
    if (Math.abs(seconds) < 30) return "now";
    return seconds > 0 ? `in ${span(seconds)}` : `${span(seconds)} ago`;
  }

  function paint() {
    const face = $("clock-now");
    if (!face) return;
    const ms = now();
    face.textContent = clockText(ms);
    face.title = `Playground time: ${new Date(ms).toString()}`;
    const controllable = shown.rates.length > 0;
    $("clock-rate").textContent = shown.rate ? `×${shown.rate}` : "";
    for (const button of document.querySelectorAll("#time-control [data-rate]")) {
      button.hidden = !controllable;
      button.setAttribute("aria-pressed", String(Number(button.dataset.rate) === shown.rate));
    }
    const jump = $("clock-jump");
    jump.hidden = !controllable;
    jump.disabled = jumping || shown.next === null;
    jump.title = shown.next === null ? "Nothing is waiting on the clock" : `Jump to ${clockText(shown.next * 1000)} (${until(shown.next)})`;
    paintCountdowns();
  }

  function paintCountdowns() {
    for (const node of document.querySelectorAll(".bk-date[data-at]")) {
      const text = until(Number(node.dataset.at));
      if (node.dataset.until !== text) node.dataset.until = text;
    }
  }

  function note(text) {
    $("clock-note").textContent = text;
  }

  async function post(path, body) {
    const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await resp.json().catch(() => ({ ok: false, error: `HTTP ${resp.status}` }));
    if (!resp.ok || data.ok === false) throw new Error(data.error || `HTTP ${resp.status}`);
    return data;
  }

  async function setRate(rate) {
    try {
      sync(await post("/api/clock", { rate }));
      note("");
    } catch (e) {
      note(e.message);
    }
  }

  async function jump() {
    jumping = true;
    $("clock-jump").disabled = true;
    note("Jumping…");
    try {
      const res = await post("/api/clock/jump", {});
      sync(res);
      if (!res.moved) return note(res.note || "Nothing is waiting on the clock.");
      const moved = (Date.parse(res.to) - Date.parse(res.from)) / 1000;
      note(`+${span(moved)} · ${res.fired.length} due`);
    } catch (e) {
      note(e.message);
    } finally {
      jumping = false;
      paint();
    }
  }

  function wire() {
    for (const button of document.querySelectorAll("#time-control [data-rate]")) {
      button.addEventListener("click", () => setRate(Number(button.dataset.rate)));
    }
    $("clock-jump").addEventListener("click", jump);
    // the page redraws messages often: give new <!date^…> times their countdown at once
    new MutationObserver(paintCountdowns).observe(document.body, { childList: true, subtree: true });
    setInterval(paint, 250);
    paint();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
  return { now, sync };
})();
