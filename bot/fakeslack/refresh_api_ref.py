"""Refresh the fake Slack's copy of the Web API reference from a slack-api-ref checkout.

    python -m bot.fakeslack.refresh_api_ref [SOURCE]   # default: ../shared/slack-api-ref

Copies the method files of every method the fake implements, the index of all method names (so
a real but unimplemented method is told apart from a typo), and the data's licence.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from . import FakeSlack  # noqa: F401  (importing the fake registers every handler)
from .api_ref import SHIPPED
from .web_api import HANDLERS

DEFAULT_SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "slack-api-ref"


def refresh(source: Path, target: Path = SHIPPED) -> int:
    methods = source / "methods"
    if not methods.is_dir():
        raise SystemExit(f"{methods}: not a slack-api-ref checkout")
    (target / "methods").mkdir(parents=True, exist_ok=True)
    for old in (target / "methods").glob("*.json"):
        old.unlink()
    index = json.loads((methods / "methods.json").read_text(encoding="utf-8"))
    names = sorted(str(entry["name"]) for entry in index)
    (target / "methods" / "methods.json").write_text(json.dumps(names, indent=1) + "\n", encoding="utf-8")
    copied = 0
    for name in sorted(HANDLERS):
        shutil.copyfile(methods / f"{name}.json", target / "methods" / f"{name}.json")
        copied += 1
    shutil.copyfile(source / "LICENSE.md", target / "LICENSE.md")
    return copied


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    copied = refresh(source)
    print(f"copied {copied} method files and the index of all methods from {source} to {SHIPPED}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
