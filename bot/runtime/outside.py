"""The outside services from the settings: which clients exist (paging is off when no routing
key is set anywhere; Statuspage when its key or page id is missing), and what ``check`` says
about them. Routing keys are read from the environment, named by the runbook's contacts."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from bot.config import Settings
from bot.domain.paging import DEFAULT_KEY_ENV, routing_env
from bot.domain.runbook import Runbook
from bot.integrations.http import JsonHttp
from bot.integrations.pagerduty import PagerDutyEvents, PagerDutyOncalls, api_http
from bot.integrations.prometheus import Prometheus
from bot.integrations.statuspage import Statuspage, statuspage_http
from bot.integrations.webhook import Webhook
from bot.usecases.hotfix import WEBHOOK
from bot.usecases.paging import API, EVENTS, PagingSettings
from bot.usecases.ports import CallTransport
from bot.usecases.status_page import STATUSPAGE


def key_variables(runbook: Runbook) -> dict[str, list[str]]:
    """Each routing-key variable the contacts name, with the contacts that page through it."""
    found: dict[str, list[str]] = {}
    for name in runbook.contacts:
        env = routing_env(runbook, name)
        if env is not None:
            found.setdefault(env, []).append(name)
    return found


def paging_settings(
    settings: Settings, runbook: Runbook, environ: Mapping[str, str] | None = None
) -> PagingSettings:
    keys = settings.routing_keys(set(key_variables(runbook)), os.environ if environ is None else environ)
    policies = {name: c.pagerduty.escalation_policy for name, c in runbook.contacts.items()
                if c.pagerduty and c.pagerduty.escalation_policy}  # fmt: skip
    return PagingSettings(frozenset(keys), settings.pagerduty_api_token is not None, policies)


def outside_transports(
    settings: Settings,
    runbook: Runbook,
    page_incident: Callable[[int], str | None],
    environ: Mapping[str, str] | None = None,
) -> dict[str, CallTransport]:
    transports: dict[str, CallTransport] = {}
    keys = settings.routing_keys(set(key_variables(runbook)), os.environ if environ is None else environ)
    if keys:
        transports[EVENTS] = PagerDutyEvents(JsonHttp(settings.pagerduty_events_url, {}), keys)
    if settings.pagerduty_api_token is not None:
        token = settings.pagerduty_api_token.get_secret_value()
        transports[API] = PagerDutyOncalls(api_http(settings.pagerduty_api_url, token))
    if settings.statuspage_api_key is not None and settings.statuspage_page_id:
        http = statuspage_http(settings.statuspage_api_url, settings.statuspage_api_key.get_secret_value())
        transports[STATUSPAGE] = Statuspage(http, settings.statuspage_page_id, page_incident)
    if settings.hotfix_webhook_url and settings.hotfix_webhook_secret is not None:
        transports[WEBHOOK] = Webhook(
            settings.hotfix_webhook_url, settings.hotfix_webhook_secret.get_secret_value()
        )
    return transports


def signal_source(settings: Settings) -> Prometheus | None:
    return Prometheus(settings.prometheus_url) if settings.prometheus_url else None


def hotfix_report(settings: Settings, runbook: Runbook, probe: bool) -> tuple[list[str], list[str]]:
    """(problems, notes) about the hotfix's webhook and metrics source; with ``probe``, each
    severity's signal queries are run once against PROMETHEUS_URL."""
    problems: list[str] = []
    notes: list[str] = []
    if settings.hotfix_webhook_url and settings.hotfix_webhook_secret is None:
        problems.append("HOTFIX_WEBHOOK_SECRET is not set: the hotfix webhook signs every decision with it")
    elif settings.hotfix_webhook_url:
        notes.append(f"Hotfix decisions are POSTed to {settings.hotfix_webhook_url}")
    source = signal_source(settings)
    with_signals = {
        k: s.hotfix.signals for k, s in runbook.severities.items() if s.hotfix and s.hotfix.signals
    }
    if source is None:
        if with_signals:
            notes.append("Hotfix rollback triggers are off: PROMETHEUS_URL is not set")
        return problems, notes
    for severity, signals in with_signals.items():
        for name, signal in signals.named().items():
            if not probe:
                continue
            value = source.query(signal.query)
            where = f"severities.yml: {severity}.hotfix.signals.{name}.query"
            if value is None:
                problems.append(f"{where}: PROMETHEUS_URL answered no number for `{signal.query}`")
            else:
                notes.append(f"{where}: {value:g}")
    return problems, notes


def outside_report(settings: Settings, runbook: Runbook, environ: Mapping[str, str] | None = None
                   ) -> tuple[list[str], list[str]]:  # fmt: skip
    """(problems, notes) about PagerDuty and Statuspage: a problem names the variable to set."""
    environ = os.environ if environ is None else environ
    variables = key_variables(runbook)
    keys = settings.routing_keys(set(variables), environ)
    problems: list[str] = []
    notes: list[str] = []
    if not keys:
        names = ", ".join(sorted(variables)) or DEFAULT_KEY_ENV
        notes.append(f"PagerDuty paging is off: no routing key is set ({names})")
    else:
        for env, contacts in sorted(variables.items()):
            if env not in keys:
                problems.append(f"{env} is not set: contacts.yml pages {', '.join(contacts)} through it")
        paged = sorted(c for env, cs in variables.items() if env in keys for c in cs)
        notes.append(f"PagerDuty paging is on for {', '.join(paged)}")
    policies = paging_settings(settings, runbook, environ).policies
    if policies and settings.pagerduty_api_token is None:
        listed = ", ".join(f"{c} ({p})" for c, p in sorted(policies.items()))
        problems.append(
            f"PAGERDUTY_API_TOKEN is not set: contacts.yml names escalation policies for {listed}"
        )
    problem = settings.statuspage_problem()
    drafted = [s.key for s in runbook.severities.values() if s.status_page]
    if problem:
        problems.append(problem)
    elif settings.statuspage_api_key is None:
        if drafted:
            notes.append("Statuspage drafts are off: STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID are not set")
    else:
        notes.append(
            f"Statuspage drafts are on for {', '.join(drafted) or 'no severity (status_page: true)'}"
        )
    return problems, notes
