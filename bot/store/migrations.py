"""The schema, as steps applied in order by ``sqlite_utils.Migrations``.

Append only: a step, once released, is never edited, renamed or reordered. A step's function name
is the name recorded in ``_sqlite_migrations``. The first steps stand in the order the old
``PRAGMA user_version`` runner counted them, so a database it made is bridged by marking that many
steps applied (see ``Database.migrate``).
"""

from __future__ import annotations

import sqlite_utils

MIGRATIONS = sqlite_utils.Migrations("firebreak")


@MIGRATIONS()
def create_incidents(db: sqlite_utils.Database) -> None:
    """Incidents, their roles, checklist and timeline."""
    db.table("incidents").create(
        {
            "id": int, "title": str, "description": str, "severity": str, "status": str,
            "private": int, "drill": int, "declared_by": str, "declared_at": str,
            "origin_channel": str, "mitigated_at": str, "resolved_at": str, "summary": str,
            "summary_at": str, "resolution": str, "channel_id": str, "channel_name": str,
            "topic_set": int, "invited": int, "roles_ts": str, "checklist_ts": str,
            "pinned": int, "announcement_channel": str, "announcement_ts": str,
            "setup_error": str, "request_key": str,
        },
        pk="id",
        not_null={"title", "severity", "status", "declared_by", "declared_at"},
    )  # fmt: skip
    db.table("incidents").create_index(["channel_id"])
    db.table("incidents").create_index(["status"])
    db.table("incidents").create_index(["request_key"], unique=True)
    db.table("roles").create(
        {
            "incident_id": int, "role": str, "user_id": str, "assigned_by": str,
            "assigned_at": str, "confirmed": int,
        },
        pk=("incident_id", "role"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )  # fmt: skip
    db.table("checklist").create(
        {
            "incident_id": int, "key": str, "phase": str, "phase_name": str, "text": str,
            "position": int, "due_at": str, "owner": str, "done_by": str, "done_at": str,
        },
        pk=("incident_id", "key"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )  # fmt: skip
    db.table("timeline").create(
        {"id": int, "incident_id": int, "at": str, "actor": str, "kind": str, "text": str},
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("timeline").create_index(["incident_id", "at"])


@MIGRATIONS()
def create_deadlines_and_outbox(db: sqlite_utils.Database) -> None:
    """The deadline ledger (one row per obligation) and the outbox of its Slack messages."""
    db.execute(
        """create table deadlines (
            id integer primary key, incident_id integer not null references incidents(id),
            kind text not null, key text not null, rung integer not null default 0,
            slot text not null default '', due_at text not null, state text not null,
            base_at text, snoozed_s integer not null default 0, created_at text not null,
            closed_at text, fired_at text, acked_by text, acked_at text, note text)"""
    )
    db.execute("create index deadlines_due on deadlines(state, due_at)")
    db.execute("create index deadlines_incident on deadlines(incident_id, state)")
    # The database itself refuses a second firing of one obligation.
    db.execute(
        "create unique index deadlines_once on deadlines(incident_id, kind, key, rung, slot)"
        " where state in ('firing', 'fired')"
    )
    db.execute(
        """create table outbox (
            id integer primary key, deadline_id integer not null references deadlines(id),
            incident_id integer not null, step text not null, target text not null,
            channel text, text text not null, blocks text, state text not null,
            attempts integer not null default 0, next_attempt_at text not null,
            ts text, error text, created_at text not null, sent_at text,
            unique(deadline_id, step))"""
    )
    db.execute("create index outbox_due on outbox(state, next_attempt_at)")


@MIGRATIONS()
def create_record_tables(db: sqlite_utils.Database) -> None:
    """The incident record: captured messages, milestone corrections, follow-ups, postmortems, Home viewers."""
    db.execute("alter table timeline add column ref text")  # e.g. message:<ts> for a capture
    db.execute("create index timeline_ref on timeline(incident_id, ref)")
    db.execute(
        """create table captures (
            incident_id integer not null references incidents(id), message_ts text not null,
            source text not null, user_id text not null, created_at text not null,
            primary key (incident_id, message_ts, source, user_id))"""
    )
    db.execute(
        """create table milestones (
            incident_id integer not null references incidents(id), name text not null,
            at text not null, set_by text not null, set_at text not null,
            primary key (incident_id, name))"""
    )
    db.execute(
        """create table followups (
            id integer primary key, incident_id integer not null references incidents(id),
            text text not null, owner text, due text, created_by text not null,
            created_at text not null, done_by text, done_at text, reminded_at text)"""
    )
    db.execute("create index followups_open on followups(done_at, incident_id)")
    db.execute(
        """create table postmortems (
            incident_id integer primary key references incidents(id), markdown text not null,
            rendered_at text not null, file_id text, uploaded_at text)"""
    )
    db.execute("create table home_users (user_id text primary key, opened_at text not null)")


@MIGRATIONS()
def add_reminder_columns(db: sqlite_utils.Database) -> None:
    """The postmortem-due and follow-up reminders: who marked the postmortem done, and when."""
    db.execute("alter table postmortems add column done_by text")
    db.execute("alter table postmortems add column done_at text")
    db.execute("create index followups_incident on followups(incident_id)")


@MIGRATIONS()
def add_outbox_claims(db: sqlite_utils.Database) -> None:
    """Which process claimed a message for its attempt (PostgreSQL's replicas take over lapsed ones)."""
    db.execute("alter table outbox add column claimed_by text")


OUTSIDE_TABLES = [
    """create table calls (
        id integer primary key, incident_id integer, service text not null, action text not null,
        key text not null unique, lane text not null, payload text not null, state text not null,
        attempts integer not null default 0, next_attempt_at text not null, claimed_by text,
        error text, result text, created_at text not null, sent_at text)""",
    "create index calls_due on calls(state, next_attempt_at)",
    "create index calls_lane on calls(lane, state)",
    """create table pages (
        id integer primary key, incident_id integer not null references incidents(id),
        dedup_key text not null, routing_key_env text not null, contact text not null,
        rung text not null, escalation text not null default '', waits_for text not null,
        state text not null, created_at text not null, acked_at text, resolved_at text,
        unique (dedup_key, routing_key_env))""",
    "create index pages_incident on pages(incident_id, state)",
    """create table status_drafts (
        id integer primary key, incident_id integer not null references incidents(id),
        reason text not null, status text not null, impact text not null, name text not null,
        body text not null, state text not null, channel text, ts text, created_at text not null,
        decided_by text, decided_at text, component_ids text,
        unique (incident_id, reason))""",
    """create table status_pages (
        incident_id integer primary key references incidents(id), page_incident_id text not null,
        shortlink text, created_at text not null)""",
]


@MIGRATIONS()
def create_outside_tables(db: sqlite_utils.Database) -> None:
    """Calls to outside services (their outbox), PagerDuty pages, status-page drafts and the
    Statuspage incident of each Firebreak incident."""
    for statement in OUTSIDE_TABLES:
        db.execute(statement)


HOTFIX_TABLES = [
    """create table hotfixes (
        id integer primary key, incident_id integer not null references incidents(id),
        number integer not null, author text not null, what text not null, pr_url text not null,
        rollback_plan text not null, state text not null, gates text not null, gate_since text,
        round integer not null, stage integer not null, watch_window integer not null, window_ends_at text,
        decide_since text, deployed_at text, ended_at text, baseline text not null,
        breaches text not null, tripped text not null, version integer not null, channel text,
        card_ts text, created_at text not null, unique (incident_id, number))""",
    """create table hotfix_events (
        id integer primary key, hotfix_id integer not null references hotfixes(id),
        incident_id integer not null, kind text not null, actor text, at text not null,
        percent integer, text text not null, data text)""",
    "create index hotfix_events_hotfix on hotfix_events(hotfix_id, id)",
]


@MIGRATIONS()
def create_hotfix_tables(db: sqlite_utils.Database) -> None:
    """Emergency hotfixes (their gates, rollout and signals) and the log of their decisions."""
    for statement in HOTFIX_TABLES:
        db.execute(statement)
