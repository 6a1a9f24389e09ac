/* The parts of Slack the playground page borrows beyond Block Kit: file cards and the file
 * viewer, reactions and the message hover menu (react, pin), Slack's grey system lines, sidebar
 * entries with unread markers, mention badges and incident names that tell incidents apart.
 *
 * DOM building and textContent only: names, messages and files are never parsed as HTML.
 */
"use strict";

const Slackish = (() => {
  const { el, emojify } = Blocks;
  const QUICK = [["pushpin", "Pin to the timeline (📌)"], ["eyes", "Looking (👀)"], ["white_check_mark", "Done (✅)"], ["+1", "Agree (👍)"]];
  const SYSTEM = new Set(["channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
    "channel_archive", "channel_unarchive", "pinned_item"]);

  function emoji(name) {
    return emojify(`:${name}:`);
  }

  // -- sidebar ------------------------------------------------------------------------------
  // inc-20261121-checkout-returns-500s → the part that tells incidents apart first, the date after
  function channelParts(name) {
    const m = /^([a-z0-9]+)-(\d{4})(\d{2})(\d{2})-(.+)$/.exec(name);
    return m ? { main: m[5], sub: `${m[1]}-${m[2]}${m[3]}${m[4]}`, date: `${m[2]}-${m[3]}-${m[4]}` } : null;
  }

  function sidebarItem({ id, name, prefix, active, unread = 0, mentions = 0, label }) {
    const item = el("a", "sidebar-item" + (active ? " active" : "") + (unread ? " unread" : ""));
    item.href = "#";
    item.dataset.channel = id;
    item.dataset.channelName = name;
    item.title = label || name;
    item.appendChild(el("span", "prefix", prefix));
    const text = el("span", "name");
    const parts = channelParts(name);
    if (parts) {
      item.classList.add("incident-item");
      text.appendChild(el("span", "name-main", parts.main));
      const sub = el("span", "name-sub", parts.sub);
      sub.title = `declared ${parts.date}`;
      text.appendChild(sub);
      item.title = `#${name}`;
    } else {
      text.appendChild(el("span", "name-main", label || name));
    }
    item.appendChild(text);
    if (mentions) {
      const badge = el("span", "mention-badge", String(mentions));
      badge.setAttribute("aria-label", `${mentions} mention${mentions === 1 ? "" : "s"}`);
      item.appendChild(badge);
    }
    return item;
  }

  // -- system lines -------------------------------------------------------------------------
  function isSystem(m) {
    return SYSTEM.has(m.subtype);
  }

  function systemLine(m, ctx, who, time) {
    const node = el("div", "message system-line");
    node.dataset.ts = m.ts;
    node.dataset.subtype = m.subtype;
    const body = el("div", "system-text");
    body.appendChild(el("span", "system-author", who));
    body.appendChild(document.createTextNode(" "));
    const rest = String(m.text || "").replace(/^<@[^>]+>\s*/, "");
    const text = Blocks.mrkdwn(rest, ctx);
    text.classList.add("system-rest");
    body.appendChild(text);
    body.appendChild(el("span", "time", time));
    node.appendChild(body);
    return node;
  }

  // -- reactions and the hover menu -----------------------------------------------------------
  function reactions(m, ctx, onToggle) {
    const row = el("div", "reactions");
    for (const r of m.reactions || []) {
      const mine = (r.users || []).includes(ctx.me);
      const chip = el("button", "reaction" + (mine ? " mine" : ""), `${emoji(r.name)} ${r.count}`);
      chip.type = "button";
      chip.dataset.reaction = r.name;
      chip.title = `${(r.users || []).map((u) => "@" + ((ctx.names.users || {})[u] || u)).join(", ")} reacted with :${r.name}:`;
      chip.setAttribute("aria-pressed", String(mine));
      chip.addEventListener("click", () => onToggle(r.name));
      row.appendChild(chip);
    }
    return row;
  }

  function messageActions(pinned, onReact, onPin) {
    const bar = el("div", "msg-actions");
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Message actions");
    for (const [name, label] of QUICK) {
      const b = el("button", "msg-action", emoji(name));
      b.type = "button";
      b.title = label;
      b.setAttribute("aria-label", `React ${label}`);
      b.dataset.react = name;
      b.addEventListener("click", () => onReact(name));
      bar.appendChild(b);
    }
    const pin = el("button", "msg-action msg-pin", pinned ? "Unpin" : "Pin");
    pin.type = "button";
    pin.title = pinned ? "Unpin from the channel" : "Pin to the channel (and the incident timeline)";
    pin.addEventListener("click", onPin);
    bar.appendChild(pin);
    return bar;
  }

  // -- files ----------------------------------------------------------------------------------
  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function kind(f) {
    const name = String(f.name || "").toLowerCase();
    if (f.snippet_type === "markdown" || name.endsWith(".md")) return ["MD", "Markdown"];
    return ["FILE", "File"];
  }

  function downloadUrl(f, me) {
    return "/api/file/download?" + new URLSearchParams({ user: me, id: f.id });
  }

  function fileCards(files, me, onOpen) {
    const box = el("div", "files");
    for (const f of files || []) {
      const [short, long] = kind(f);
      const card = el("div", "file-card");
      card.dataset.fileId = f.id;
      const open = el("button", "file-open");
      open.type = "button";
      open.title = "Open " + (f.name || "the file");
      open.appendChild(el("span", "file-icon", short));
      const meta = el("span", "file-meta");
      meta.appendChild(el("span", "file-title", f.title || f.name || f.id));
      meta.appendChild(el("span", "file-sub", `${long} · ${size(f.size || 0)} · ${f.name || ""}`));
      open.appendChild(meta);
      open.addEventListener("click", () => onOpen(f));
      card.appendChild(open);
      const download = el("a", "file-download", "⬇");
      download.href = downloadUrl(f, me);
      download.download = f.name || f.id;
      download.title = "Download " + (f.name || "");
      download.setAttribute("aria-label", "Download " + (f.name || ""));
      card.appendChild(download);
      box.appendChild(card);
    }
    return box;
  }

  // The viewer: a dialog over the page with the file rendered, a Download link and a close button.
  function closeFile() {
    const old = document.getElementById("file-viewer");
    if (old) old.remove();
  }

  async function openFile(f, me, onError) {
    closeFile();
    const overlay = el("div", "modal-overlay file-overlay");
    overlay.id = "file-viewer";
    const box = el("div", "modal file-viewer");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", f.title || f.name || "File");
    const head = el("div", "modal-head");
    const titles = el("div", "file-head");
    titles.appendChild(el("h2", "", f.title || f.name));
    titles.appendChild(el("div", "file-sub", `${kind(f)[1]} · ${size(f.size || 0)} · ${f.name || ""}`));
    head.appendChild(titles);
    const download = el("a", "bk-button file-viewer-download", "Download");
    download.href = downloadUrl(f, me);
    download.download = f.name || f.id;
    head.appendChild(download);
    const x = el("button", "modal-x", "✕");
    x.type = "button";
    x.setAttribute("aria-label", "Close the file");
    x.addEventListener("click", closeFile);
    head.appendChild(x);
    box.appendChild(head);
    const body = el("div", "modal-body file-body", "Loading…");
    box.appendChild(body);
    overlay.appendChild(box);
    overlay.addEventListener("click", (e) => e.target === overlay && closeFile());
    document.body.appendChild(overlay);
    x.focus();
    try {
      const resp = await fetch("/api/file?" + new URLSearchParams({ user: me, id: f.id }));
      const data = await resp.json();
      if (!resp.ok || !data.ok) throw new Error(data.error || `HTTP ${resp.status}`);
      body.replaceChildren(kind(f)[0] === "MD" ? Markdown.render(data.text) : el("pre", "md-code", data.text));
    } catch (e) {
      closeFile();
      onError(e.message);
    }
  }

  // -- narrow windows: the sidebar is a drawer ---------------------------------------------
  function setDrawer(open) {
    document.querySelector(".app").classList.toggle("sidebar-open", open);
    const toggle = document.getElementById("sidebar-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
  }

  function wireDrawer() {
    const toggle = document.getElementById("sidebar-toggle");
    toggle.addEventListener("click", (e) => {
      e.stopPropagation();
      setDrawer(!document.querySelector(".app").classList.contains("sidebar-open"));
    });
    document.addEventListener("click", (e) => {
      const open = document.querySelector(".app").classList.contains("sidebar-open");
      if (!open) return;
      const inSidebar = e.target.closest(".sidebar");
      if (!inSidebar || e.target.closest("[data-channel]")) setDrawer(false);
    });
    document.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      if (document.getElementById("file-viewer")) closeFile();
      else setDrawer(false);
    });
  }

  return { sidebarItem, channelParts, isSystem, systemLine, reactions, messageActions, fileCards, openFile, closeFile, wireDrawer };
})();
