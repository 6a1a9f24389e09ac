"""Load ``runbooks/`` into a validated :class:`Runbook`, with errors that name the file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.domain.errors import RunbookError
from bot.domain.runbook import Contact, Phase, Role, Runbook, Settings, Severity

FILES = ("settings.yml", "severities.yml", "roles.yml", "checklists.yml", "contacts.yml")


def _read(folder: Path, name: str) -> Any:
    path = folder / name
    if not path.is_file():
        raise RunbookError(f"{path}: file not found (a runbooks folder needs {', '.join(FILES)})")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunbookError(f"{path}: not valid YAML: {exc}") from exc


def _explain(path: Path, exc: ValidationError, prefix: tuple[Any, ...] = ()) -> RunbookError:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in (*prefix, *err["loc"]))
        lines.append(f"{path}: {field or '(top)'}: {err['msg']}")
    return RunbookError("\n".join(lines))


def _mapping(path: Path, data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RunbookError(f"{path}: expected a mapping of names to entries")
    return {str(k): v for k, v in data.items()}


def shipped_runbooks() -> Path:
    """The default runbooks Firebreak ships: package data in an installed package, the
    checkout's ``runbooks/`` folder in a source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "shipped_runbooks", here.parent / "runbooks"):
        if (candidate / "severities.yml").is_file():
            return candidate
    raise RunbookError(f"{here}: this installation lacks its shipped runbooks; reinstall Firebreak")


def init_runbooks(target: Path) -> list[Path]:
    """Write an editable copy of the shipped runbooks and templates into ``target``; refuse to
    overwrite any file. Returns the files written."""
    source = shipped_runbooks()
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in (".yml", ".j2"))
    existing = [target / f.relative_to(source) for f in files if (target / f.relative_to(source)).exists()]
    if existing:
        names = ", ".join(str(p) for p in existing[:3]) + (" …" if len(existing) > 3 else "")
        raise RunbookError(f"{target}: not overwriting {names}; choose another folder or move them away")
    written = []
    for f in files:
        dest = target / f.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(f.read_bytes())
        written.append(dest)
    return written


def load_runbook(folder: Path | str) -> Runbook:
    folder = Path(folder)
    if not folder.is_dir():
        raise RunbookError(f"{folder}: runbooks folder not found (set BOT_RUNBOOKS, or run `firebreak init`)")
    try:
        settings = Settings.model_validate(_read(folder, "settings.yml") or {})
    except ValidationError as exc:
        raise _explain(folder / "settings.yml", exc) from exc

    def section(name: str, model: Any, keyed: bool) -> dict[str, Any]:
        path = folder / name
        out: dict[str, Any] = {}
        for key, body in _mapping(path, _read(folder, name)).items():
            if not isinstance(body, dict):
                raise RunbookError(f"{path}: {key}: expected a mapping")
            try:
                out[key] = model.model_validate({"key": key, **body} if keyed else body)
            except ValidationError as exc:
                raise _explain(path, exc, (key,)) from exc
        return out

    severities = section("severities.yml", Severity, keyed=True)
    roles = section("roles.yml", Role, keyed=True)
    contacts = section("contacts.yml", Contact, keyed=False)
    raw_phases = _read(folder, "checklists.yml") or []
    if not isinstance(raw_phases, list):
        raise RunbookError(f"{folder / 'checklists.yml'}: expected a list of phases")
    phases = []
    for index, raw in enumerate(raw_phases):
        try:
            phases.append(Phase.model_validate(raw))
        except ValidationError as exc:
            raise _explain(folder / "checklists.yml", exc, (index,)) from exc
    if not severities:
        raise RunbookError(f"{folder / 'severities.yml'}: define at least one severity")
    try:
        return Runbook(
            settings=settings,
            severities=severities,
            roles=roles,
            phases=tuple(phases),
            contacts=contacts,
        )
    except ValidationError as exc:
        messages = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        raise RunbookError(f"{folder}: " + "\n".join(messages)) from exc
