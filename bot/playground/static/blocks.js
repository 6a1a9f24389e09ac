/* Block Kit and mrkdwn rendering for the Firebreak playground.
 *
 * Everything here builds DOM nodes and sets text with textContent: the messages come from
 * the bot and from what people typed, so nothing is ever parsed as HTML.
 */
"use strict";

const Blocks = (() => {
  const EMOJI = {
    red_circle: "●", large_orange_circle: "●", large_yellow_circle: "●", white_circle: "○",
    large_blue_circle: "●", large_green_circle: "●", rotating_light: "🚨", warning: "⚠️",
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", hourglass: "⌛",
    hourglass_flowing_sand: "⏳", alarm_clock: "⏰", bell: "🔔", fire: "🔥", memo: "📝",
    pushpin: "📌", mega: "📣", loudspeaker: "📢", eyes: "👀", tada: "🎉", thumbsup: "👍",
    "+1": "👍", rocket: "🚀", information_source: "ℹ️", clipboard: "📋", spiral_note_pad: "🗒️",
    calendar: "📅", busts_in_silhouette: "👥", bust_in_silhouette: "👤", sos: "🆘", lock: "🔒",
    arrow_right: "➡️", point_right: "👉", speech_balloon: "💬", green_heart: "💚", globe_with_meridians: "🌐",
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function emojify(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  // Slack escapes &, < and > in message text; show the characters, never markup.
  function unescape(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // Coloured circles (severity markers) are drawn as a coloured dot, so they show without an emoji font.
  const DOTS = {
    red_circle: "red", large_orange_circle: "orange", large_yellow_circle: "yellow",
    white_circle: "white", large_blue_circle: "blue", large_green_circle: "green",
  };

  function textNode(text) {
    const frag = document.createDocumentFragment();
    const parts = unescape(text).split(/(:[a-z_]+_circle:)/);
    parts.forEach((part, i) => {
      const dot = i % 2 === 1 && DOTS[part.slice(1, -1)];
      if (dot) frag.appendChild(el("span", "dot dot-" + dot, "●"));
      else if (part) frag.appendChild(document.createTextNode(emojify(part)));
    });
    return frag;
  }

  function safeHref(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  // <@U1>, <#C1|name>, <!here>, <!subteam^S1>, <!date^...|fallback>, <https://x|label>
  function entity(inner, ctx) {
    const [target, label] = splitOnce(inner, "|");
    const names = ctx.names || { users: {}, channels: {}, groups: {} };
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return el("span", "mention" + (id === ctx.me ? " mention-me" : ""), "@" + (label || names.users[id] || id));
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const link = el("a", "channel-link", "#" + (label || names.channels[id] || id));
      link.href = "#";
      link.dataset.channel = id;
      return link;
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice("!subteam^".length);
      return el("span", "mention", label || "@" + (names.groups[id] || id));
    }
    if (target.startsWith("!date^")) return dateNode(target, label);
    if (target.startsWith("!")) return el("span", "mention", "@" + (label || target.slice(1)));
    const href = safeHref(target);
    if (!href) return document.createTextNode(unescape("<" + inner + ">"));
    const link = el("a", "link", unescape(label || target));
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }

  // <!date^1796200145^{date_short_pretty} {time}|08:29 UTC>: the bot's fallback text, and the
  // instant in data-at for the countdown clock.js shows beside it (by the simulated clock)
  function dateNode(target, label) {
    const node = el("span", "bk-date", label || target);
    const at = Number(target.split("^")[1]);
    if (Number.isFinite(at)) node.dataset.at = String(at);
    return node;
  }

  function splitOnce(text, sep) {
    const at = text.indexOf(sep);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  // inside *bold*, _italic_ and ~strike~ an entity counts whole: `_due <!date^1^{date_short}|9:00>_`
  const TOKEN = /<([^<>\n]+)>|`([^`\n]+)`|(?<![\p{L}\p{N}])\*((?:<[^<>\n]+>|[^*\n<])+)\*(?![\p{L}\p{N}])|(?<![\p{L}\p{N}])_((?:<[^<>\n]+>|[^_\n<])+)_(?![\p{L}\p{N}])|(?<![\p{L}\p{N}])~((?:<[^<>\n]+>|[^~\n<])+)~(?![\p{L}\p{N}])/gu;

  function inline(text, ctx, parent) {
    let last = 0;
    for (const m of text.matchAll(TOKEN)) {
      if (m.index > last) parent.appendChild(textNode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.appendChild(entity(m[1], ctx));
      else if (m[2] !== undefined) parent.appendChild(el("code", "", unescape(m[2])));
      else {
        const tag = m[3] !== undefined ? "b" : m[4] !== undefined ? "i" : "s";
        const node = el(tag);
        inline(m[3] ?? m[4] ?? m[5], ctx, node);
        parent.appendChild(node);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.appendChild(textNode(text.slice(last)));
  }

  function mrkdwn(text, ctx) {
    const root = el("div", "mrkdwn");
    const parts = String(text || "").split("```");
    parts.forEach((part, i) => {
      if (i % 2 === 1) {
        root.appendChild(el("pre", "", unescape(part.replace(/^\n/, ""))));
        return;
      }
      let quote = null;
      const lines = part.split("\n");
      lines.forEach((line, n) => {
        const quoted = /^(&gt;|>) ?/.exec(line);
        if (quoted) {
          if (!quote) quote = root.appendChild(el("blockquote"));
          else quote.appendChild(el("br"));
          inline(line.slice(quoted[0].length), ctx, quote);
          return;
        }
        quote = null;
        inline(line, ctx, root);
        if (n < lines.length - 1) root.appendChild(el("br"));
      });
    });
    return root;
  }

  function textObject(obj, ctx) {
    if (!obj) return el("span");
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    const span = el("span", "plain", obj.emoji === false ? obj.text : emojify(obj.text || ""));
    return span;
  }

  function plain(obj) {
    return obj ? emojify(obj.text || "") : "";
  }

  // -- interactive elements ---------------------------------------------------------------
  function optionsOf(element) {
    if (element.options) return element.options;
    return (element.option_groups || []).flatMap((g) => g.options || []);
  }

  function select(element, ctx, items, initial, onChange) {
    const sel = el("select", "bk-select");
    sel.dataset.actionId = element.action_id || "";
    const none = el("option", "", plain(element.placeholder) || "Select…");
    none.value = "";
    sel.appendChild(none);
    for (const [value, label] of items) {
      const opt = el("option", "", label);
      opt.value = value;
      if (value === initial) opt.selected = true;
      sel.appendChild(opt);
    }
    if (onChange) sel.addEventListener("change", () => sel.value && onChange(sel.value));
    return sel;
  }

  function peopleItems(ctx) {
    return (ctx.users || []).filter((u) => !u.is_bot).map((u) => [u.id, u.real_name ? `${u.real_name} (@${u.name})` : u.name]);
  }

  function channelItems(ctx) {
    const names = (ctx.names && ctx.names.channels) || {};
    return Object.entries(names).map(([id, name]) => [id, "#" + name]);
  }

  // An element of a section accessory or an actions block: acting on it calls ctx.onAction.
  function actionElement(element, block, ctx) {
    const act = (value) => ctx.onAction(element, block, value);
    switch (element.type) {
      case "button": {
        const b = el("button", "bk-button" + (element.style ? " bk-" + element.style : ""), plain(element.text));
        b.type = "button";
        b.dataset.actionId = element.action_id || "";
        b.addEventListener("click", () => {
          if (element.confirm && !window.confirm(plain(element.confirm.title) + "\n\n" + (element.confirm.text || {}).text)) return;
          b.disabled = true;
          act(element.value ?? null);
        });
        return b;
      }
      case "static_select":
      case "overflow":
        return select(element, ctx, optionsOf(element).map((o) => [o.value, plain(o.text)]), (element.initial_option || {}).value, act);
      case "users_select":
        return select(element, ctx, peopleItems(ctx), element.initial_user, act);
      case "conversations_select":
      case "channels_select":
        return select(element, ctx, channelItems(ctx), element.initial_conversation || element.initial_channel, act);
      case "checkboxes":
      case "radio_buttons":
        return choiceList(element, ctx, (value) => act(value));
      case "datepicker": {
        const input = el("input", "bk-input");
        input.type = "date";
        input.value = element.initial_date || "";
        input.addEventListener("change", () => act(input.value));
        return input;
      }
      case "image":
        return el("span", "bk-image", "🖼 " + (element.alt_text || "image"));
      default:
        return el("span", "bk-unsupported", `[${element.type}]`);
    }
  }

  function choiceList(element, ctx, onToggle) {
    const box = el("div", "bk-choices");
    const multi = element.type === "checkboxes";
    const initial = new Set((element.initial_options || (element.initial_option ? [element.initial_option] : [])).map((o) => o.value));
    const name = "r" + Math.random().toString(36).slice(2);
    for (const option of element.options || []) {
      const label = el("label", "bk-choice");
      const input = el("input");
      input.type = multi ? "checkbox" : "radio";
      input.name = name;
      input.value = option.value;
      input.checked = initial.has(option.value);
      if (onToggle) input.addEventListener("change", () => onToggle(option.value));
      label.appendChild(input);
      label.appendChild(textObject(option.text, ctx));
      if (option.description) label.appendChild(el("span", "bk-hint", plain(option.description)));
      box.appendChild(label);
    }
    return box;
  }

  // An input block's element in a modal; returns [node, () => state value for state.values].
  function inputElement(element, ctx) {
    const type = element.type;
    if (type === "plain_text_input" || type === "email_text_input" || type === "url_text_input" || type === "number_input") {
      const input = el(element.multiline ? "textarea" : "input", "bk-input");
      if (!element.multiline) input.type = type === "number_input" ? "number" : type === "email_text_input" ? "email" : "text";
      input.value = element.initial_value || "";
      if (element.placeholder) input.placeholder = plain(element.placeholder);
      if (element.max_length) input.maxLength = element.max_length;
      return [input, () => ({ type, value: input.value || null })];
    }
    if (type === "static_select") {
      const options = optionsOf(element);
      const sel = select(element, ctx, options.map((o) => [o.value, plain(o.text)]), (element.initial_option || {}).value);
      return [sel, () => ({ type, selected_option: options.find((o) => o.value === sel.value) || null })];
    }
    if (type === "users_select") {
      const sel = select(element, ctx, peopleItems(ctx), element.initial_user);
      return [sel, () => ({ type, selected_user: sel.value || null })];
    }
    if (type === "conversations_select" || type === "channels_select") {
      const sel = select(element, ctx, channelItems(ctx), element.initial_conversation || element.initial_channel);
      const key = type === "channels_select" ? "selected_channel" : "selected_conversation";
      return [sel, () => ({ type, [key]: sel.value || null })];
    }
    if (type === "multi_users_select" || type === "multi_static_select") {
      const people = type === "multi_users_select";
      const options = people ? [] : optionsOf(element);
      const items = people ? peopleItems(ctx) : options.map((o) => [o.value, plain(o.text)]);
      const sel = select(element, ctx, items, null);
      sel.multiple = true;
      sel.options[0].remove();
      const initial = new Set(people ? element.initial_users || [] : (element.initial_options || []).map((o) => o.value));
      for (const opt of sel.options) opt.selected = initial.has(opt.value);
      const chosen = () => Array.from(sel.selectedOptions).map((o) => o.value);
      return [sel, () => (people ? { type, selected_users: chosen() } : { type, selected_options: options.filter((o) => chosen().includes(o.value)) })];
    }
    if (type === "checkboxes" || type === "radio_buttons") {
      const box = choiceList(element, ctx, null);
      const picked = () => Array.from(box.querySelectorAll("input")).filter((i) => i.checked).map((i) => (element.options || []).find((o) => o.value === i.value));
      return [box, () => (type === "checkboxes" ? { type, selected_options: picked() } : { type, selected_option: picked()[0] || null })];
    }
    if (type === "datepicker" || type === "timepicker") {
      const input = el("input", "bk-input");
      input.type = type === "datepicker" ? "date" : "time";
      input.value = element.initial_date || element.initial_time || "";
      const key = type === "datepicker" ? "selected_date" : "selected_time";
      return [input, () => ({ type, [key]: input.value || null })];
    }
    return [el("span", "bk-unsupported", `[${type}]`), () => ({ type })];
  }

  // -- blocks ---------------------------------------------------------------------------
  function block(b, ctx) {
    switch (b.type) {
      case "header":
        return el("div", "bk-header", plain(b.text));
      case "divider":
        return el("hr", "bk-divider");
      case "section": {
        const node = el("div", "bk-section");
        const body = el("div", "bk-section-body");
        if (b.text) body.appendChild(textObject(b.text, ctx));
        if (b.fields) {
          const fields = el("div", "bk-fields");
          for (const f of b.fields) fields.appendChild(textObject(f, ctx));
          body.appendChild(fields);
        }
        node.appendChild(body);
        if (b.accessory) {
          const acc = el("div", "bk-accessory");
          acc.appendChild(actionElement(b.accessory, b, ctx));
          node.appendChild(acc);
        }
        return node;
      }
      case "context": {
        const node = el("div", "bk-context");
        for (const e of b.elements || []) {
          node.appendChild(e.type === "image" ? el("span", "bk-image", "🖼") : textObject(e, ctx));
        }
        return node;
      }
      case "actions": {
        const node = el("div", "bk-actions");
        for (const e of b.elements || []) node.appendChild(actionElement(e, b, ctx));
        return node;
      }
      case "input": {
        const node = el("div", "bk-input-block");
        const label = el("label", "bk-label", plain(b.label));
        if (b.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
        node.appendChild(label);
        const [input, get] = inputElement(b.element || {}, ctx);
        node.appendChild(input);
        if (b.hint) node.appendChild(el("div", "bk-hint", plain(b.hint)));
        const error = node.appendChild(el("div", "bk-error"));
        if (ctx.inputs) ctx.inputs.push({ blockId: b.block_id, actionId: (b.element || {}).action_id, get, error });
        return node;
      }
      case "image":
        return el("div", "bk-image", "🖼 " + (b.alt_text || "image"));
      case "rich_text":
        return el("div", "bk-rich", richText(b));
      default:
        return el("div", "bk-unsupported", `[unsupported block: ${b.type}]`);
    }
  }

  function richText(b) {
    const out = [];
    const walk = (node) => {
      if (!node) return;
      if (typeof node.text === "string") out.push(node.text);
      (node.elements || []).forEach(walk);
    };
    walk(b);
    return out.join("");
  }

  function render(blocks, ctx) {
    const root = el("div", "blocks");
    for (const b of blocks || []) root.appendChild(block(b, ctx));
    return root;
  }

  return { render, mrkdwn, el, emojify, plain };
})();
