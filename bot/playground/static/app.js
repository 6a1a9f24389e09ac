/* The Firebreak playground page: a small Slack client for the local fake workspace.
 *
 * State comes from GET /api/state (with the fake outside services', for the Outside world
 * panel); GET /api/wait long-polls for changes; actions are POSTed to /api/command,
 * /api/click, /api/submit, /api/close, /api/react and /api/pin, signal values to /api/signals;
 * files are read from /api/file. No framework, no build step. Slack's extras (files,
 * reactions, system lines, sidebar markers) are drawn by slackish.js.
 */
"use strict";

const { el } = Blocks;
const $ = (id) => document.getElementById(id);

const page = {
  user: localStorage.getItem("firebreak.user") || "",
  channel: localStorage.getItem("firebreak.channel") || "",
  version: 0,
  state: null,
  lastJson: "",
  viewKey: "",
  showPins: false,
  showOutside: localStorage.getItem("firebreak.outside") === "1",
  notices: [], // local errors, shown like ephemerals: {text, ts}
};

// -- talking to the server ------------------------------------------------------------------
async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const resp = await fetch(path, options);
  const data = await resp.json().catch(() => ({ ok: false, error: `HTTP ${resp.status}` }));
  if (!resp.ok || data.ok === false) throw new Error(data.error || `HTTP ${resp.status}`);
  return data;
}

async function refresh() {
  const asked = { user: page.user, channel: page.channel };
  const q = new URLSearchParams(asked);
  const seq = (page.refreshes = (page.refreshes || 0) + 1);
  const state = await api("/api/state?" + q);
  // an answer to an older question must not undo what came since: a newer refresh, or a switch
  // of person or channel made while this one was in flight (its own refresh is on the way)
  if (seq !== page.refreshes || asked.user !== page.user || asked.channel !== page.channel) return;
  page.version = Math.max(page.version, state.version);
  const { version, clock, ...shown } = state; // the clock runs on in clock.js: no redraw for it
  Clock.sync(clock);
  const json = JSON.stringify(shown);
  if (json === page.lastJson) return;
  page.lastJson = json;
  page.state = state;
  page.user = state.me;
  if (state.not_in && state.not_in !== page.notInShown) notInNotice(state.not_in);
  page.notInShown = state.not_in;
  page.channel = state.channel ? state.channel.id : page.channel;
  localStorage.setItem("firebreak.user", page.user);
  localStorage.setItem("firebreak.channel", page.channel);
  render();
}

async function poll() {
  for (;;) {
    try {
      const { version } = await api(`/api/wait?since=${page.version}`);
      if (version > page.version) {
        page.version = version;
        await refresh();
      }
    } catch (e) {
      setStatus("Reconnecting to the playground…");
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    setStatus("");
  }
}

async function act(path, body) {
  try {
    const res = await api(path, { user: page.user, ...body });
    await refresh();
    return res;
  } catch (e) {
    notice(e.message);
    await refresh().catch(() => {});
    return null;
  }
}

function notice(text) {
  page.notices.push({ text, ts: String(Clock.now() / 1000) }); // among the messages, by the playground's time
  page.lastJson = "";
  render();
}

function setStatus(text) {
  $("status").textContent = text;
  $("status").hidden = !text;
}

// -- rendering ----------------------------------------------------------------------------
function ctxFor(extra) {
  const s = page.state;
  return { names: s.names, users: s.users, me: s.me, ...extra };
}

function userName(id) {
  const u = page.state.users.find((x) => x.id === id);
  return u ? u.real_name || u.name : id;
}

function render() {
  const s = page.state;
  if (!s) return;
  renderSwitcher(s);
  renderSidebar(s);
  renderHeader(s);
  renderMessages(s);
  renderPins(s);
  renderOutside(s);
  renderModal(s);
  $("composer-input").placeholder = s.channel ? `Message ${s.channel.is_im ? "" : "#"}${s.channel.name} — try /incident help` : "";
}

function renderSwitcher(s) {
  const sel = $("user-switcher");
  sel.replaceChildren();
  for (const u of s.users.filter((x) => !x.is_bot)) {
    const opt = el("option", "", `${u.real_name} (@${u.name})`);
    opt.value = u.id;
    opt.selected = u.id === s.me;
    sel.appendChild(opt);
  }
  $("me-avatar").replaceChildren(avatar(s.me, userName(s.me)));
}

function renderSidebar(s) {
  const list = $("channel-list");
  list.replaceChildren();
  for (const c of s.sidebar) {
    const active = Boolean(s.channel && c.id === s.channel.id);
    list.appendChild(Slackish.sidebarItem({ ...c, prefix: c.is_private ? "🔒" : "#", active }));
  }
  const dm = s.dm || {};
  const home = { id: "home", name: "Firebreak", prefix: "⚡", active: Boolean(s.channel && s.channel.id === "home"), ...dm };
  $("app-list").replaceChildren(Slackish.sidebarItem(home));
  const pinged = s.sidebar.some((c) => c.mentions) || Boolean(dm.mentions);
  $("sidebar-toggle").classList.toggle("has-mentions", pinged);
}

function renderHeader(s) {
  const c = s.channel;
  $("channel-title").textContent = c ? (c.id === "home" ? "Firebreak" : (c.is_private ? "🔒 " : "# ") + c.name) : "";
  const topic = $("channel-topic");
  topic.replaceChildren();
  if (c && c.topic) topic.appendChild(Blocks.mrkdwn(c.topic, ctxFor()));
  $("member-count").textContent = c && c.id !== "home" ? `${c.members} members` : "";
  const pins = $("pins-toggle");
  pins.hidden = !c || c.id === "home";
  pins.textContent = `Pinned · ${s.pins.length}`;
  pins.classList.toggle("active", page.showPins);
}

function avatar(id, name) {
  const a = el("div", "avatar", (name || "?").slice(0, 1).toUpperCase());
  let hash = 0;
  for (const ch of id || "") hash = (hash * 31 + ch.charCodeAt(0)) % 360;
  a.style.backgroundColor = `hsl(${hash}, 45%, 45%)`;
  return a;
}

function time(ts) {
  const d = new Date(parseFloat(ts) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function messageNode(m, channelId, opts = {}) {
  const isBot = Boolean(m.bot_id) || (page.state.users.find((u) => u.id === m.user) || {}).is_bot;
  if (Slackish.isSystem(m)) return Slackish.systemLine(m, ctxFor(), isBot ? "Firebreak" : userName(m.user), time(m.ts));
  const node = el("div", "message" + (opts.ephemeral ? " ephemeral" : ""));
  node.dataset.ts = m.ts;
  node.appendChild(avatar(isBot ? "bot" : m.user, isBot ? "⚡" : userName(m.user)));
  const body = el("div", "message-body");
  const meta = el("div", "meta");
  meta.appendChild(el("span", "author", isBot ? "Firebreak" : userName(m.user)));
  if (isBot) meta.appendChild(el("span", "badge", "APP"));
  meta.appendChild(el("span", "time", time(m.ts)));
  if (opts.pinned) meta.appendChild(el("span", "pinned-mark", "Pinned"));
  body.appendChild(meta);
  if (opts.ephemeral) body.appendChild(el("div", "only-you", "Only visible to you"));
  const onAction = (element, block, value) => {
    if (opts.notice) return;
    const ephemeral = Boolean(opts.ephemeral);
    act("/api/click", { channel: channelId, ts: m.ts, action_id: element.action_id, value, block_id: block.block_id || null, ephemeral });
  };
  const content = m.blocks && m.blocks.length ? Blocks.render(m.blocks, ctxFor({ onAction })) : Blocks.mrkdwn(m.text, ctxFor());
  body.appendChild(content);
  if (m.files && m.files.length) body.appendChild(Slackish.fileCards(m.files, page.state.me, (f) => Slackish.openFile(f, page.state.me, notice)));
  if (m.edited) body.appendChild(el("span", "edited", "(edited)"));
  const react = (name) => act("/api/react", { channel: channelId, ts: m.ts, name });
  if (m.reactions && m.reactions.length) body.appendChild(Slackish.reactions(m, ctxFor(), react));
  if (!opts.ephemeral && channelId) node.appendChild(Slackish.messageActions(opts.pinned, react, () => act("/api/pin", { channel: channelId, ts: m.ts })));
  if (m.replies && m.replies.length) {
    const thread = el("div", "thread");
    thread.appendChild(el("div", "thread-count", `${m.replies.length} repl${m.replies.length === 1 ? "y" : "ies"}`));
    for (const r of m.replies) thread.appendChild(messageNode(r, channelId));
    body.appendChild(thread);
  }
  node.appendChild(body);
  return node;
}

function renderMessages(s) {
  const pane = $("messages");
  const nearBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
  const keep = pane.scrollTop;
  pane.replaceChildren();
  if (s.channel && s.channel.id === "home") {
    const home = el("section", "home");
    home.appendChild(el("div", "home-title", "Home"));
    if (s.home) home.appendChild(Blocks.render(s.home.blocks, ctxFor({ onAction: (e, b, v) => act("/api/click", { view_id: s.home.id, action_id: e.action_id, value: v }) })));
    else home.appendChild(el("p", "muted", "Firebreak has not published a Home tab. Its messages to you appear below."));
    pane.appendChild(home);
  }
  const pinned = new Set(s.pins.map((p) => p.ts));
  const items = [
    ...s.messages.map((m) => ({ ts: m.ts, node: () => messageNode(m, s.channel.dm || s.channel.id, { pinned: pinned.has(m.ts) }) })),
    ...s.ephemerals.map((e) => ({ ts: e.ts, node: () => messageNode({ ...e, bot_id: "B" }, s.channel.id, { ephemeral: true }) })),
    ...page.notices.map((n) => ({ ts: n.ts, node: () => messageNode({ text: ":warning: " + n.text, ts: n.ts, bot_id: "B" }, "", { ephemeral: true, notice: true }) })),
  ].sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  if (!items.length) pane.appendChild(el("p", "muted empty", "No messages yet."));
  for (const item of items) pane.appendChild(item.node());
  pane.scrollTop = nearBottom ? pane.scrollHeight : keep;
}

function renderPins(s) {
  const panel = $("pins");
  panel.hidden = !page.showPins || !s.channel || s.channel.id === "home";
  const list = $("pins-list");
  list.replaceChildren();
  if (!s.pins.length) list.appendChild(el("p", "muted", "Nothing is pinned in this channel yet."));
  for (const m of s.pins) list.appendChild(messageNode(m, s.channel.id, { pinned: true }));
}

function renderOutside(s) {
  const { node, open } = Outside.render(s.outside);
  $("outside").hidden = !page.showOutside;
  Outside.signals($("outside-signals"), s.outside, setSignals);
  $("outside-body").replaceChildren(node);
  const toggle = $("outside-toggle");
  toggle.replaceChildren(el("span", "", "Outside world"));
  if (open) toggle.appendChild(el("span", "toggle-count", String(open)));
  toggle.title = open ? `${open} open PagerDuty page${open === 1 ? "" : "s"}` : "The fake PagerDuty, Statuspage, Prometheus and deploy pipeline";
  toggle.classList.toggle("active", page.showOutside);
  toggle.setAttribute("aria-expanded", String(page.showOutside));
}

async function setSignals(values) {
  // what the fake Prometheus answers the rollback triggers: {error_rate: 0.07}
  try {
    await api("/api/signals", values);
  } catch (e) {
    notice(e.message);
  }
  await refresh().catch(() => {});
}

function showPanel(pins, outside) {
  page.showPins = pins;
  page.showOutside = outside;
  localStorage.setItem("firebreak.outside", outside ? "1" : "0");
  render();
}

// -- modals -------------------------------------------------------------------------------
function renderModal(s) {
  const view = s.views.length ? s.views[s.views.length - 1] : null;
  const key = view ? `${view.id}:${view.hash}` : "";
  if (key === page.viewKey) return;
  page.viewKey = key;
  const overlay = $("modal-overlay");
  overlay.hidden = !view;
  const modal = $("modal");
  modal.replaceChildren();
  if (!view) return;
  const inputs = [];
  const onAction = (element, block, value) => act("/api/click", { view_id: view.id, action_id: element.action_id, value });
  const head = el("div", "modal-head");
  head.appendChild(el("h2", "", Blocks.plain(view.title)));
  const x = el("button", "modal-x", "✕");
  x.type = "button";
  x.addEventListener("click", () => act("/api/close", { view_id: view.id }));
  head.appendChild(x);
  modal.appendChild(head);
  const body = el("div", "modal-body");
  body.appendChild(Blocks.render(view.blocks, ctxFor({ onAction, inputs })));
  modal.appendChild(body);
  const foot = el("div", "modal-foot");
  const cancel = el("button", "bk-button", Blocks.plain(view.close) || "Cancel");
  cancel.type = "button";
  cancel.addEventListener("click", () => act("/api/close", { view_id: view.id }));
  foot.appendChild(cancel);
  if (view.submit) {
    const submit = el("button", "bk-button bk-primary", Blocks.plain(view.submit));
    submit.type = "button";
    submit.addEventListener("click", () => submitModal(view, inputs));
    foot.appendChild(submit);
  }
  modal.appendChild(foot);
  const first = modal.querySelector("input, textarea, select");
  if (first) first.focus();
}

async function submitModal(view, inputs) {
  const values = {};
  for (const input of inputs) {
    input.error.textContent = "";
    (values[input.blockId] ||= {})[input.actionId] = input.get();
  }
  const res = await act("/api/submit", { view_id: view.id, values });
  if (res && res.errors) {
    for (const input of inputs) input.error.textContent = res.errors[input.blockId] || "";
  }
}

// -- events -------------------------------------------------------------------------------
function notInNotice(name) {
  notice(`You're not in #${name} — ask to be invited.`);
}

function goTo(channel) {
  const s = page.state;
  const known = !s || channel === "home" || channel === (s.channel && s.channel.id) || s.sidebar.some((c) => c.id === channel);
  if (!known && s.names.channels[channel] !== undefined) return notInNotice(s.names.channels[channel]);
  page.channel = channel;
  page.notices = [];
  page.lastJson = "";
  if (channel === "home") act("/api/open_home", {});
  else refresh();
}

function wire() {
  document.body.addEventListener("click", (e) => {
    const link = e.target.closest("[data-channel]");
    if (link) {
      e.preventDefault();
      goTo(link.dataset.channel);
    }
  });
  $("user-switcher").addEventListener("change", (e) => {
    page.user = e.target.value;
    page.viewKey = "";
    page.notices = [];
    page.lastJson = "";
    refresh();
  });
  // one side panel at a time: the pins or the outside world
  $("pins-toggle").addEventListener("click", () => showPanel(!page.showPins, false));
  $("pins-close").addEventListener("click", () => showPanel(false, page.showOutside));
  $("outside-toggle").addEventListener("click", () => showPanel(false, !page.showOutside));
  $("outside-close").addEventListener("click", () => showPanel(page.showPins, false));
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const channel = page.state.channel.id;
    await act(text.startsWith("/") ? "/api/command" : "/api/message", { channel, text });
  });
  $("composer-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && page.state && page.state.views.length) {
      const view = page.state.views[page.state.views.length - 1];
      act("/api/close", { view_id: view.id });
    }
  });
}

wire();
Slackish.wireDrawer();
refresh().then(poll, (e) => {
  setStatus("Cannot reach the playground: " + e.message);
  poll();
});
