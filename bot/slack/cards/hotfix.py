"""Block Kit for hotfixes: the pinned hotfix card (gates, rollout, current step, signals, the
decision buttons of the step it is at), its clock messages, the form and the list."""

from __future__ import annotations

from typing import Any

from bot.domain.durations import format_duration
from bot.domain.hotfix import Hotfix, signal_line, step_text
from bot.domain.hotfix_rules import HotfixRules
from bot.domain.models import Snapshot
from bot.domain.runbook import Runbook
from bot.domain.text import drill_prefix, escape, truncate
from bot.slack import ids
from bot.slack.cards.incident import Cards
from bot.slack.cards.kit import Block, button, context, plain, section

STATE_EMOJI = {"gates": ":hourglass_flowing_sand:", "blocked": ":no_entry:", "ready": ":white_check_mark:",
               "watching": ":eyes:", "deciding": ":raising_hand:", "deployed": ":rocket:",
               "rolled_back": ":leftwards_arrow_with_hook:", "abandoned": ":wastebasket:"}  # fmt: skip


class HotfixCardsKit:
    def __init__(self, runbook: Runbook, cards: Cards) -> None:
        self.runbook = runbook
        self.cards = cards

    def rules(self, snap: Snapshot) -> HotfixRules:
        rules = self.runbook.severities[snap.incident.severity].hotfix
        assert rules is not None
        return rules

    def buttons(self, hf: Hotfix, rules: HotfixRules) -> list[dict[str, Any]]:
        """The decisions open at the hotfix's current step."""
        value = f"{hf.id}:{hf.version}"

        def b(label: str, action: str, style: str | None = None) -> dict[str, Any]:
            return button(label, f"{ids.HOTFIX_DECIDE}{action}", value, style)

        gate, nxt, stage = hf.current_gate(rules), hf.next_stage(rules), hf.current_stage(rules)
        if hf.state == "gates" and gate:
            return [
                b(f"{gate.name}: Pass", f"pass:{gate.key}", "primary"),
                b(f"{gate.name}: Fail", f"fail:{gate.key}", "danger"),
            ]
        if hf.state == "blocked":
            return [b("Rework", "rework", "primary"), b("Abandon", "abandon", "danger")]
        if hf.state == "ready":
            return [b(f"Start {rules.rollout[0].label} canary", "start", "primary"), b("Abandon", "abandon")]
        if hf.state == "deciding" and stage:
            out = [b(f"Promote to {nxt.label}", "promote", "primary")] if nxt else []
            return [
                *out,
                b(f"Hold {format_duration(stage.watch)}", "hold"),
                b("Roll back", "rollback", "danger"),
            ]
        if hf.state == "watching":
            return [b("Roll back", "rollback", "danger")]
        return []

    def card(self, snap: Snapshot, hf: Hotfix, signals: dict[str, float | None]) -> tuple[str, list[Block]]:
        rules, inc = self.rules(snap), snap.incident
        head = f"{drill_prefix(inc.drill)}Hotfix {hf.ref} · {inc.ref}"
        about = [
            f"*What:* {escape(truncate(hf.what, 300))}",
            f"*Started by* <@{hf.author}> {self.cards.time(hf.created_at)}",
        ]
        if hf.pr_url:
            about.insert(1, f"*PR:* <{hf.pr_url}|{escape(truncate(hf.pr_url, 80))}>")
        if hf.rollback_plan:
            about.append(f"*Rollback plan:* {escape(truncate(hf.rollback_plan, 500))}")
        blocks: list[Block] = [{"type": "header", "text": plain(head)}, section("\n".join(about))]
        blocks.append(section("*Gates*\n" + "\n".join(self._gate_lines(snap, hf, rules))))
        stages = " → ".join(
            f"*{s.label}* ({format_duration(s.watch)})"
            if i == hf.stage
            else f"{s.label} ({format_duration(s.watch)})"
            for i, s in enumerate(rules.rollout)
        )
        blocks.append(section(f"*Rollout* {stages}"))
        now_line = f"{STATE_EMOJI.get(hf.state, '')} *Now:* {step_text(hf, rules)}"
        if hf.state == "watching" and hf.window_ends_at:
            now_line += f" until {self.cards.time(hf.window_ends_at)}"
        blocks.append(section(now_line))
        if hf.tripped and hf.state in ("watching", "deciding"):
            blocks.append(section(f":red_circle: *Rollback trigger:* {escape(hf.tripped)}"))
        if rules.signals is not None and hf.stage >= 0:
            seen = "; ".join(signal_line(k, signals.get(k)) for k in rules.signals.named()) if signals else ""
            if signals and all(v is None for v in signals.values()):
                seen = "signals unavailable (the metrics source did not answer)"
            base = ", ".join(signal_line(k, v) for k, v in hf.baseline.items())
            blocks.append(
                context(f"Signals: {seen or 'not sampled yet'}" + (f" · baseline {base}" if base else ""))
            )
        actions = self.buttons(hf, rules)
        if (actions and inc.is_open) or (actions and hf.state in ("watching", "deciding")):
            blocks.append({"type": "actions", "block_id": f"hotfix-{hf.id}", "elements": actions})
        return f"Hotfix {hf.ref} · {inc.ref}: {step_text(hf, rules)}", blocks

    def _gate_lines(self, snap: Snapshot, hf: Hotfix, rules: HotfixRules) -> list[str]:
        lines = []
        current = hf.current_gate(rules)
        results = {g.key: g for g in hf.gates}
        for gate in rules.gates:
            owner = snap.roles.get(gate.owner)
            role = self.runbook.role_name(gate.owner) + (f": <@{owner.user_id}>" if owner else "")
            result = results.get(gate.key)
            if result is not None:
                mark = ":white_check_mark:" if result.passed else ":x:"
                who = f"<@{result.by}>" if result.by else "the clock"
                note = f" — {escape(result.note)}" if result.note else ""
                lines.append(f"{mark} {escape(gate.name)} · {who} {self.cards.time(result.at)}{note}")
            elif current is not None and gate.key == current.key:
                clock = ""
                if gate.key == "approval" and hf.gate_since:
                    then = "auto-approves" if rules.on_timeout == "approve" else "escalates"
                    clock = f" · {then} at {self.cards.time(hf.gate_since + rules.approval_timeout)} without an answer"
                lines.append(f":hourglass_flowing_sand: *{escape(gate.name)}* ({role}){clock}")
            else:
                lines.append(f":white_large_square: {escape(gate.name)} ({role})")
        return lines

    def message(self, snap: Snapshot, hf: Hotfix, text: str, buttons: bool) -> list[Block]:
        blocks: list[Block] = [section(text)]
        actions = self.buttons(hf, self.rules(snap)) if buttons else []
        if actions:
            blocks.append({"type": "actions", "elements": actions})
        return blocks

    def listing(self, snap: Snapshot, hotfixes: list[Hotfix]) -> list[Block]:
        if not hotfixes:
            return [
                section(
                    f"No hotfixes on {snap.incident.ref} yet. Start one with `/incident hotfix <PR link>`."
                )
            ]
        rules = self.rules(snap)
        lines = [f"*Hotfixes on {snap.incident.ref}*"]
        for hf in hotfixes:
            lines.append(
                f"{STATE_EMOJI.get(hf.state, '')} *{hf.ref}* {escape(truncate(hf.what, 120))} — {step_text(hf, rules)}"
            )
        return [section("\n".join(lines))]


def hotfix_modal(incident_id: int) -> dict[str, Any]:
    def field(block: str, action: str, label: str, multiline: bool = False, optional: bool = False,
              limit: int = 300) -> Block:  # fmt: skip
        element = {
            "type": "plain_text_input",
            "action_id": action,
            "multiline": multiline,
            "max_length": limit,
        }
        return {
            "type": "input",
            "block_id": block,
            "label": plain(label),
            "optional": optional,
            "element": element,
        }

    return {
        "type": "modal",
        "callback_id": ids.HOTFIX_MODAL,
        "title": plain("Start a hotfix", 24),
        "submit": plain("Start", 24),
        "close": plain("Cancel", 24),
        "private_metadata": str(incident_id),
        "blocks": [
            field(ids.HF_WHAT_BLOCK, ids.HF_WHAT_INPUT, "What is the fix? (the minimal change)"),
            field(ids.HF_PR_BLOCK, ids.HF_PR_INPUT, "PR link", optional=True, limit=500),
            field(
                ids.HF_PLAN_BLOCK,
                ids.HF_PLAN_INPUT,
                "Rollback plan",
                multiline=True,
                optional=True,
                limit=2000,
            ),
        ],
    }


def read_hotfix(view: dict[str, Any]) -> dict[str, Any]:
    values = view.get("state", {}).get("values", {})

    def value(block: str, action: str) -> str:
        return str(values.get(block, {}).get(action, {}).get("value") or "").strip()

    return {
        "incident_id": int(view.get("private_metadata") or 0),
        "what": value(ids.HF_WHAT_BLOCK, ids.HF_WHAT_INPUT),
        "pr_url": value(ids.HF_PR_BLOCK, ids.HF_PR_INPUT),
        "rollback_plan": value(ids.HF_PLAN_BLOCK, ids.HF_PLAN_INPUT),
    }


def fail_modal(hotfix_id: int, version: int, gate_key: str, gate_name: str, ref: str) -> dict[str, Any]:
    """Why a gate fails: the card and the timeline say it, and the IC reworks from it."""
    return {
        "type": "modal",
        "callback_id": ids.HOTFIX_FAIL_MODAL,
        "title": plain(f"Fail a gate of {ref}", 24),
        "submit": plain("Fail the gate", 24),
        "close": plain("Cancel", 24),
        "private_metadata": f"{hotfix_id}:{version}:{gate_key}",
        "blocks": [
            {
                "type": "input",
                "block_id": ids.HF_WHY_BLOCK,
                "label": plain(f"Why does “{gate_name}” fail?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.HF_WHY_INPUT,
                    "multiline": True,
                    "max_length": 1000,
                    "placeholder": plain("e.g. checkout tests fail on the coupon path"),
                },
            }
        ],
    }


def read_fail(view: dict[str, Any]) -> tuple[int, int, str, str]:
    """The hotfix id, the card version the form was opened from, the gate and the reason."""
    hotfix_id, version, gate = [*str(view.get("private_metadata") or "").split(":", 2), "", ""][:3]
    values = view.get("state", {}).get("values", {})
    why = str(values.get(ids.HF_WHY_BLOCK, {}).get(ids.HF_WHY_INPUT, {}).get("value") or "").strip()
    number = (int(hotfix_id) if hotfix_id.isdigit() else 0, int(version) if version.isdigit() else 0)
    return *number, gate, why
