/* The Outside world panel: what the bot did to the fake PagerDuty and the fake Statuspage.
 *
 * Built from the state's `outside` (GET /api/state, or GET /api/outside alone): PagerDuty's
 * incidents and change events, and the status page as the public sees it. Summaries and update
 * texts carry what people typed, so every text goes in with textContent, never as HTML.
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
    root.appendChild(pagerduty(outside.pagerduty));
    root.appendChild(statuspage(outside.statuspage));
    const open = outside.pagerduty.incidents.filter((i) => i.status !== "resolved").length;
    return { node: root, open };
  }

  return { render };
})();
