/* The Outside world panel: what the bot did to the fake PagerDuty, Statuspage and deploy
 * pipeline, and what the fake Prometheus answers the hotfix's rollback triggers.
 *
 * Built from the state's `outside` (GET /api/state, or GET /api/outside alone): the rollback
 * signals (an Error rate slider and a p99 latency input, which POST /api/signals), the hotfix
 * decisions the pipeline's webhook received, PagerDuty's incidents and change events, and the
 * status page as the public sees it. Summaries and update texts carry what people typed, so
 * every text goes in with textContent, never as HTML.
 */
"use strict";

const Outside = (() => {
  const { el } = Blocks;

  const COMPONENT_STATUS = {
    operational: "Operational",
    degraded_performance: "Degraded performance",
    partial_outage: "Partial outage",
    major_outage: "Major outage",
    under_maintenance: "Under maintenance",
  };
  const expanded = new Set(); // resolved incidents whose updates are open, kept across redraws
  const UPDATE_STATUS = { investigating: "Investigating", identified: "Identified", monitoring: "Monitoring", resolved: "Resolved" };

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function heading(title, sub) {
    const head = el("div", "ow-heading");
    head.appendChild(el("h3", "", title));
    if (sub) head.appendChild(el("div", "ow-sub", sub));
    return head;
  }

  function fact(list, label, value, cls) {
    if (value === null || value === undefined || value === "") return;
    list.appendChild(el("dt", "", label));
    list.appendChild(el("dd", cls || "", String(value)));
  }

  // -- Prometheus: the rollback signals, set here ---------------------------------------------
  // Built once and updated in place (a redraw must not take the slider from under the mouse).
  const percent = (v) => `${(v * 100).toFixed(1)}%`;
  const millis = (v) => `${Math.round(v * 1000)} ms`;
  const SIGNALS = {
    error_rate: { label: "Error rate", aria: "Error rate (%)", show: percent, input: { type: "range", min: "0", max: "20", step: "0.1" }, toInput: (v) => (v * 100).toFixed(1), fromInput: (n) => n / 100, shown: (n) => `${n.toFixed(1)}%` },
    latency_p99: { label: "p99 latency", aria: "p99 latency (ms)", show: millis, input: { type: "number", min: "0", max: "60000", step: "10" }, toInput: (v) => String(Math.round(v * 1000)), fromInput: (n) => n / 1000, shown: (n) => `${Math.round(n)} ms` },
  };
  let built = null;
  let latest = {}; // the signals as last drawn

  function threshold(name, s) {
    if (typeof s.above === "number") return `Rollback trigger above ${name === "error_rate" ? `${Number((s.above * 100).toFixed(2))}%` : millis(s.above)}`;
    if (typeof s.above_baseline === "number") return `Rollback trigger above ${s.above_baseline}× its value when the canary started`;
    return "";
  }

  function signalRow(name, send) {
    const spec = SIGNALS[name];
    const node = el("div", "sig-row");
    node.dataset.signal = name;
    const label = el("label", "sig-label", spec.label);
    const input = el("input", "sig-input");
    Object.assign(input, spec.input);
    input.id = `signal-${name.replace("_", "-")}`;
    label.htmlFor = input.id;
    input.setAttribute("aria-label", spec.aria);
    const value = el("output", "sig-value");
    value.htmlFor = input.id;
    const limit = el("div", "ow-sub sig-limit");
    const row = { node, input, value, limit, editing: false, edits: 0 };
    input.addEventListener("input", () => {
      row.editing = true;
      row.edits += 1;
      const n = Number(input.value);
      if (input.value !== "" && Number.isFinite(n)) value.textContent = spec.shown(n);
    });
    input.addEventListener("change", async () => {
      const n = input.value === "" ? NaN : Number(input.value);
      const edit = row.edits;
      row.editing = true;
      try {
        await send({ [name]: Number.isFinite(n) ? spec.fromInput(n) : input.value });
      } finally {
        // an edit made while this one was sent keeps the control: its own change follows
        if (row.edits === edit) {
          row.editing = false;
          showSignal(name, row); // what the fake answers now (a refused value is put back)
        }
      }
    });
    node.append(label, input, value, limit);
    return row;
  }

  function buildSignals(send) {
    const node = el("section", "ow-section ow-prometheus");
    node.appendChild(heading("Prometheus", "What the hotfix's rollback triggers read, sampled while a rollout stage is watched"));
    const rows = {};
    for (const name of Object.keys(SIGNALS)) {
      rows[name] = signalRow(name, send);
      node.appendChild(rows[name].node);
    }
    node.appendChild(el("p", "muted ow-empty sig-hint", "Start a hotfix's 10% canary, then raise the error rate above the trigger: within about a minute (two samples over it) the rollback trigger fires on the hotfix card and in the channel."));
    return { node, rows };
  }

  /** Show the signals' values in `container`; `send({error_rate: 0.07})` sets them. */
  function signals(container, outside, send) {
    const found = (outside && outside.signals) || {};
    if (!Object.keys(found).length) {
      container.replaceChildren();
      built = null;
      return;
    }
    if (!built || built.node.parentNode !== container) {
      built = buildSignals(send);
      container.replaceChildren(built.node);
    }
    latest = found;
    for (const [name, row] of Object.entries(built.rows)) showSignal(name, row);
  }

  function showSignal(name, row) {
    const s = latest[name];
    row.node.hidden = !s;
    if (!s || row.editing) return; // never move a control while it is being moved
    row.value.textContent = s.value === null ? "no series" : SIGNALS[name].show(s.value);
    row.limit.textContent = threshold(name, s);
    if (s.value !== null) row.input.value = SIGNALS[name].toInput(s.value);
  }

  // -- the deploy pipeline: the hotfix webhook's deliveries ------------------------------------
  function pipeline(webhook) {
    const section = el("section", "ow-section ow-pipeline");
    section.appendChild(heading("Deploy pipeline", "Hotfix decisions the bot POSTed to its signed webhook, newest first"));
    const deliveries = [...((webhook && webhook.deliveries) || [])].reverse();
    if (!deliveries.length) section.appendChild(el("p", "muted ow-empty", "No hotfix decisions yet. /incident hotfix in an incident channel starts one."));
    const list = el("ul", "ow-list wh-deliveries");
    for (const d of deliveries) {
      const item = el("li", "wh-delivery");
      item.dataset.decision = String(d.decision || "");
      item.appendChild(el("span", "ow-time", when(d.decided_at)));
      item.appendChild(el("span", `pill wh-decision wh-${String(d.decision || "").replace(/[^a-z_]/g, "")}`, String(d.decision || "?").replace(/_/g, " ")));
      item.appendChild(el("span", "wh-ref", (d.hotfix && d.hotfix.ref) || "?"));
      item.appendChild(el("span", "wh-stage", d.stage && typeof d.stage.percent === "number" ? `${d.stage.percent}%` : "—"));
      item.appendChild(el("span", "ow-sub wh-incident", (d.incident && d.incident.ref) || ""));
      list.appendChild(item);
    }
    if (deliveries.length) section.appendChild(list);
    return section;
  }

  // -- PagerDuty ------------------------------------------------------------------------
  function pagerdutyIncident(i) {
    const card = el("article", "pd-incident");
    card.dataset.status = i.status;
    const head = el("div", "pd-head");
    head.appendChild(el("span", "pd-number", `#${i.number}`));
    head.appendChild(el("span", `pill pd-status pd-${i.status}`, i.status));
    if (i.severity) head.appendChild(el("span", "pill pd-severity", i.severity));
    card.appendChild(head);
    card.appendChild(el("div", "pd-summary", i.summary || "(no summary)"));
    const facts = el("dl", "ow-facts");
    fact(facts, "Dedup key", i.dedup_key, "ow-code");
    fact(facts, "Triggered", when(i.created_at));
    fact(facts, "Acknowledged", when(i.acknowledged_at));
    fact(facts, "Resolved", when(i.resolved_at));
    if (i.dedup_count) fact(facts, "Deduplicated", `${i.dedup_count} repeat trigger${i.dedup_count === 1 ? "" : "s"}`);
    card.appendChild(facts);
    return card;
  }

  function pagerduty(pd) {
    const section = el("section", "ow-section ow-pagerduty");
    section.appendChild(heading("PagerDuty", "Pages the bot sent, newest first"));
    const incidents = [...pd.incidents].reverse();
    if (!incidents.length) section.appendChild(el("p", "muted ow-empty", "No pages yet. Declaring a p0 or p1 pages the on-call."));
    for (const i of incidents) section.appendChild(pagerdutyIncident(i));
    if (pd.change_events.length) {
      section.appendChild(el("h4", "", "Change events"));
      const list = el("ul", "ow-list pd-changes");
      for (const c of [...pd.change_events].reverse()) {
        const item = el("li", "");
        item.appendChild(el("span", "ow-time", when(c.received_at)));
        item.appendChild(el("span", "", (c.payload && c.payload.summary) || "(no summary)"));
        list.appendChild(item);
      }
      section.appendChild(list);
    }
    return section;
  }

  // -- Statuspage ------------------------------------------------------------------------
  function updates(incident) {
    const list = el("ol", "sp-updates");
    for (const u of incident.incident_updates) {
      // Statuspage lists an incident's updates newest first already
      const item = el("li", "sp-update");
      const line = el("div", "sp-update-head");
      line.appendChild(el("strong", "", UPDATE_STATUS[u.status] || u.status));
      line.appendChild(el("span", "ow-time", when(u.display_at)));
      item.appendChild(line);
      if (u.body) item.appendChild(el("div", "sp-body", u.body));
      list.appendChild(item);
    }
    return list;
  }

  function statusIncident(incident, resolved) {
    const card = el("article", `sp-incident sp-impact-${incident.impact}`);
    const head = el("div", "sp-incident-head");
    head.appendChild(el("span", "sp-incident-name", incident.name));
    if (incident.impact !== "none") head.appendChild(el("span", "pill sp-impact", `${incident.impact} impact`));
    card.appendChild(head);
    const affected = incident.components.map((c) => c.name).join(", ");
    if (affected) card.appendChild(el("div", "ow-sub", `This incident affects: ${affected}`));
    if (resolved) {
      const more = el("details", "");
      more.open = expanded.has(incident.id);
      more.addEventListener("toggle", () => (more.open ? expanded.add(incident.id) : expanded.delete(incident.id)));
      more.appendChild(el("summary", "", `Resolved ${when(incident.resolved_at)} · ${incident.incident_updates.length} update${incident.incident_updates.length === 1 ? "" : "s"}`));
      more.appendChild(updates(incident));
      card.appendChild(more);
    } else {
      card.appendChild(updates(incident));
    }
    return card;
  }

  function statuspage(sp) {
    const section = el("section", "ow-section ow-statuspage");
    section.appendChild(heading("Status page", `${sp.page.name} · ${sp.page.url} · as the public sees it`));
    const banner = el("div", `sp-banner sp-${sp.status.indicator}`, sp.status.description);
    banner.dataset.indicator = sp.status.indicator;
    section.appendChild(banner);
    const components = el("ul", "ow-list sp-components");
    for (const c of sp.components) {
      const item = el("li", "");
      item.dataset.status = c.status;
      item.appendChild(el("span", "sp-component-name", c.name));
      item.appendChild(el("span", `sp-component-status sp-${c.status}`, COMPONENT_STATUS[c.status] || c.status));
      components.appendChild(item);
    }
    section.appendChild(components);
    section.appendChild(el("h4", "", "Unresolved incidents"));
    if (!sp.incidents.length) section.appendChild(el("p", "muted ow-empty", "No incidents reported. The bot drafts; a person publishes."));
    for (const i of sp.incidents) section.appendChild(statusIncident(i, false));
    if (sp.recent.length) {
      section.appendChild(el("h4", "", "Recently resolved"));
      for (const i of sp.recent) section.appendChild(statusIncident(i, true));
    }
    return section;
  }

  /** The panel's content for the state's `outside`; the open pages, for the header's badge. */
  function render(outside) {
    const root = el("div", "ow");
    if (!outside) {
      root.appendChild(el("p", "muted ow-empty", "The outside world is not running."));
      return { node: root, open: 0 };
    }
    root.appendChild(pipeline(outside.webhook));
    root.appendChild(pagerduty(outside.pagerduty));
    root.appendChild(statuspage(outside.statuspage));
    const open = outside.pagerduty.incidents.filter((i) => i.status !== "resolved").length;
    return { node: root, open };
  }

  return { render, signals };
})();
