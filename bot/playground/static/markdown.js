/* A small, safe Markdown renderer for the playground's file viewer (the postmortem draft).
 *
 * Headings, paragraphs, lists (nested, task lists), tables, block quotes, fenced and inline
 * code, emphasis and links. Everything is built as DOM nodes with textContent: a file's text is
 * never parsed as HTML, and a link only gets an href when it is http(s) or mailto.
 */
"use strict";

const Markdown = (() => {
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function safeHref(url) {
    return /^(https?:\/\/|mailto:)/i.test(url) ? url : null;
  }

  // A link's label is plain text (so a URL in it is not linked again); an unsafe URL is no link.
  function link(text, url, parent) {
    const href = safeHref(url);
    if (!href) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    const a = el("a", "md-link", text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    parent.appendChild(a);
  }

  // `code` | [text](url) | <https://url> | **bold** | __bold__ | ~~strike~~ | *em* | _em_ | bare URL
  const INLINE = new RegExp(
    [
      "`([^`]+)`",
      "\\[([^\\]]+)\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)",
      "<((?:https?://|mailto:)[^>\\s]+)>",
      "\\*\\*(.+?)\\*\\*",
      "__(.+?)__",
      "~~(.+?)~~",
      "(?<![\\p{L}\\p{N}*])\\*(?!\\s)(.+?)(?<!\\s)\\*(?![\\p{L}\\p{N}*])",
      "(?<![\\p{L}\\p{N}_])_(?!\\s)(.+?)(?<!\\s)_(?![\\p{L}\\p{N}_])",
      "(https?://[^\\s<>()]*[^\\s<>().,;:!?'\"])",
    ].join("|"),
    "gu",
  );

  function inline(text, parent) {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.appendChild(el("code", "", m[1]));
      else if (m[2] !== undefined) link(m[2], m[3], parent);
      else if (m[4] !== undefined) link(m[4], m[4], parent);
      else if (m[10] !== undefined) link(m[10], m[10], parent);
      else {
        const tag = m[5] !== undefined || m[6] !== undefined ? "strong" : m[7] !== undefined ? "del" : "em";
        const node = el(tag);
        inline(m[5] ?? m[6] ?? m[7] ?? m[8] ?? m[9] ?? "", node);
        parent.appendChild(node);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  const FENCE = /^\s*(```|~~~)/;
  const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
  const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
  const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
  const QUOTE = /^\s*>\s?/;

  function cells(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  }

  function table(lines, i, out) {
    const t = el("table", "md-table");
    const head = el("tr");
    for (const c of cells(lines[i])) inline(c, head.appendChild(el("th")));
    t.appendChild(el("thead")).appendChild(head);
    const body = t.appendChild(el("tbody"));
    i += 2;
    while (i < lines.length && lines[i].trim().startsWith("|")) {
      const row = el("tr");
      for (const c of cells(lines[i])) inline(c, row.appendChild(el("td")));
      body.appendChild(row);
      i += 1;
    }
    const wrap = el("div", "md-table-wrap");
    wrap.appendChild(t);
    out.appendChild(wrap);
    return i;
  }

  // A list from line i: items at its indent, deeper items nested in the one before them.
  function list(lines, i, out) {
    const first = ITEM.exec(lines[i]);
    const indent = first[1].length;
    const ordered = /\d/.test(first[2]);
    const node = el(ordered ? "ol" : "ul", "md-list");
    if (ordered && parseInt(first[2], 10) !== 1) node.start = parseInt(first[2], 10);
    let item = null;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) {
        // a blank line inside a list: the list goes on if another item (or its text) follows
        let j = i + 1;
        while (j < lines.length && !lines[j].trim()) j += 1;
        const next = j < lines.length ? ITEM.exec(lines[j]) : null;
        if (next && next[1].length >= indent) {
          i = j;
          continue;
        }
        break;
      }
      const m = ITEM.exec(line);
      if (m && m[1].length > indent && item) {
        i = list(lines, i, item);
        continue;
      }
      if (m && m[1].length === indent && /\d/.test(m[2]) === ordered) {
        item = node.appendChild(el("li"));
        let text = m[3];
        const task = /^\[([ xX])\]\s*(.*)$/.exec(text);
        if (task) {
          item.className = "md-task";
          const box = el("input");
          box.type = "checkbox";
          box.checked = task[1] !== " ";
          box.disabled = true;
          item.appendChild(box);
          text = task[2];
        }
        inline(text, item);
        i += 1;
        continue;
      }
      if (!m && item && /^\s+\S/.test(line) && !FENCE.test(line)) {
        item.appendChild(document.createTextNode(" "));
        inline(line.trim(), item);
        i += 1;
        continue;
      }
      break;
    }
    out.appendChild(node);
    return i;
  }

  function blocks(lines, out) {
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) {
        i += 1;
        continue;
      }
      const fence = FENCE.exec(line);
      if (fence) {
        const code = [];
        i += 1;
        while (i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i++]);
        i += 1;
        out.appendChild(el("pre", "md-code")).appendChild(el("code", "", code.join("\n")));
        continue;
      }
      const heading = HEADING.exec(line);
      if (heading) {
        const h = el("h" + heading[1].length, "md-h");
        inline(heading[2], h);
        out.appendChild(h);
        i += 1;
        continue;
      }
      if (RULE.test(line)) {
        out.appendChild(el("hr", "md-rule"));
        i += 1;
        continue;
      }
      if (line.trim().startsWith("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
        i = table(lines, i, out);
        continue;
      }
      if (ITEM.test(line)) {
        i = list(lines, i, out);
        continue;
      }
      if (QUOTE.test(line)) {
        const quoted = [];
        while (i < lines.length && QUOTE.test(lines[i])) quoted.push(lines[i++].replace(QUOTE, ""));
        blocks(quoted, out.appendChild(el("blockquote", "md-quote")));
        continue;
      }
      const para = [];
      while (i < lines.length && lines[i].trim() && !FENCE.test(lines[i]) && !HEADING.test(lines[i]) &&
             !ITEM.test(lines[i]) && !QUOTE.test(lines[i]) && !RULE.test(lines[i])) {
        para.push(lines[i++].trim());
      }
      if (!para.length) para.push(lines[i++].trim()); // a line no rule took: keep it as text
      const p = el("p", "md-p");
      inline(para.join(" "), p);
      out.appendChild(p);
    }
    return out;
  }

  function render(text) {
    return blocks(String(text || "").replace(/\r\n?/g, "\n").split("\n"), el("div", "markdown"));
  }

  return { render, safeHref };
})();
