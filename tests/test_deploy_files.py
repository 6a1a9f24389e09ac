"""The deployment files agree with the code, without a container engine: the Dockerfile (read line
by line), compose.yaml (PyYAML), the proxy's Caddyfile and pyproject.toml.

Each check returns the problems it finds; the tests assert there are none, and
``test_each_check_catches_its_mistake`` breaks the files one way at a time to show every check fails
when it should.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import yaml
from slack_bolt import App, BoltRequest, BoltResponse

from bot.__main__ import parser
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH, SlackHTTPServer

REPO = Path(__file__).resolve().parents[1]
FILES = ("Dockerfile", ".dockerignore", "compose.yaml", "deploy/Caddyfile", "pyproject.toml")
Files = dict[str, str]
Instruction = tuple[str, str]  # ("CMD", '["firebreak", "run"]')


def repo_files() -> Files:
    return {name: (REPO / name).read_text() for name in FILES}


# --- reading the files ------------------------------------------------------------------------------


def instructions(dockerfile: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments and blank lines dropped."""
    result: list[Instruction] = []
    pending = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        words = (pending + line).split(None, 1)
        pending = ""
        result.append((words[0].upper(), words[1] if len(words) > 1 else ""))
    return result


def args_of(dockerfile: str, name: str) -> list[str]:
    return [args for instruction, args in instructions(dockerfile) if instruction == name]


def exec_form(args: str) -> list[str]:
    """A CMD/ENTRYPOINT argument list: the JSON (exec) form, else the shell form's words."""
    if args.startswith("["):
        return [str(word) for word in json.loads(args)]
    return shlex.split(args)


def image_env(dockerfile: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in args_of(dockerfile, "ENV"):
        words = shlex.split(args)
        if "=" not in words[0]:  # the old `ENV KEY value` form
            env[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def command(dockerfile: str) -> list[str]:
    """What the container runs: the last ENTRYPOINT (exec form) followed by the last CMD."""
    entrypoint = args_of(dockerfile, "ENTRYPOINT")
    cmd = args_of(dockerfile, "CMD")
    return (exec_form(entrypoint[-1]) if entrypoint else []) + (exec_form(cmd[-1]) if cmd else [])


def http_port(dockerfile: str) -> str | None:
    return image_env(dockerfile).get("BOT_HTTP_PORT")


def healthcheck_urls(dockerfile: str) -> list[str]:
    checks = args_of(dockerfile, "HEALTHCHECK")
    return re.findall(r"https?://[^\s'\"]+", checks[-1]) if checks else []


def compose(files: Files) -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(files["compose.yaml"]))


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def replicas(files: Files) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {
        name: service
        for name, service in compose(files)["services"].items()
        if "build" in service
        and (REPO / (service["build"] if isinstance(service["build"], str) else service["build"]["context"]))
        .resolve()
        .joinpath("Dockerfile")
        .is_file()
    }


def services_from(files: Files, image: str) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose(files)["services"].items()
        if str(service.get("image", "")).split(":")[0] == image
    }


def mounted(service: dict[str, Any], target: str) -> str | None:
    """The repository path a service mounts at ``target`` (short volume syntax)."""
    for volume in service.get("volumes") or []:
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            return str(PurePosixPath(source))
    return None


def caddy_blocks(caddyfile: str) -> Iterator[tuple[str, str]]:
    """Every ``label { body }`` in a Caddyfile, nested ones too, comments dropped."""
    text = "\n".join(line.split("#")[0] for line in caddyfile.splitlines())
    for match in re.finditer(r"^[ \t]*([^\n{}]*?)[ \t]*\{[ \t]*$", text, re.MULTILINE):
        depth, start = 1, match.end()
        for index in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                yield match.group(1).strip(), text[start:index]
                break


# --- the checks ---------------------------------------------------------------------------------------


def command_problems(files: Files) -> list[str]:
    scripts = tomllib.loads(files["pyproject.toml"])["project"]["scripts"]
    argv = command(files["Dockerfile"])
    if not argv or argv[0] not in scripts:
        return [f"the image runs {argv}, not a console script of pyproject.toml ({sorted(scripts)})"]
    chosen = parser().parse_args(argv[1:]).command
    return [] if chosen == "run" else [f"the image runs `{' '.join(argv)}`: command {chosen!r}, not 'run'"]


def port_problems(files: Files) -> list[str]:
    dockerfile = files["Dockerfile"]
    port = http_port(dockerfile)
    if port is None:
        return ["the image sets no BOT_HTTP_PORT"]
    problems = []
    exposed = [word.split("/")[0] for args in args_of(dockerfile, "EXPOSE") for word in args.split()]
    if exposed != [port]:
        problems.append(f"EXPOSE {exposed} is not BOT_HTTP_PORT={port}")
    urls = healthcheck_urls(dockerfile)
    if len(urls) != 1:
        return [*problems, f"the HEALTHCHECK asks {urls}, not one URL"]
    url = urlsplit(urls[0])
    if (url.hostname, str(url.port), url.path) != ("127.0.0.1", port, HEALTH_PATH):
        problems.append(f"the HEALTHCHECK asks {urls[0]}, not http://127.0.0.1:{port}{HEALTH_PATH}")
    return problems


def user_problems(files: Files) -> list[str]:
    steps = instructions(files["Dockerfile"])
    users = [args for name, args in steps if name == "USER"]
    if not users:
        return ["no USER: the image runs as root"]
    return [f"USER {users[-1]} is root"] if users[-1].split(":")[0] in ("root", "0") else []


def database_problems(files: Files) -> list[str]:
    postgres = services_from(files, "postgres")
    if len(postgres) != 1:
        return [f"compose.yaml has {len(postgres)} postgres services, not one"]
    ((host, service),) = postgres.items()
    pg_env = environment(service)
    expected = (
        "postgresql", host, int(pg_env.get("PGPORT", 5432)),
        pg_env.get("POSTGRES_USER", "postgres"), pg_env.get("POSTGRES_PASSWORD"),
        "/" + pg_env.get("POSTGRES_DB", pg_env.get("POSTGRES_USER", "postgres")),
    )  # fmt: skip
    problems = []
    if "pg_isready" not in str((service.get("healthcheck") or {}).get("test")):
        problems.append(f"{host} has no pg_isready healthcheck")
    bots = replicas(files)
    if len(bots) < 2:
        problems.append(f"compose.yaml builds {len(bots)} replicas from the Dockerfile, not two or more")
    for name, bot in bots.items():
        url = urlsplit(environment(bot).get("BOT_DB", ""))
        got = (url.scheme, url.hostname, url.port, url.username, url.password, url.path)
        if got != expected:
            problems.append(f"{name}: BOT_DB is {got}, not {expected}")
        depends_on = bot.get("depends_on")
        if (
            not isinstance(depends_on, dict)
            or (depends_on.get(host) or {}).get("condition") != "service_healthy"
        ):
            problems.append(f"{name} does not wait for {host} to be healthy")
    return problems


def proxy_problems(files: Files) -> list[str]:
    proxies = services_from(files, "caddy")
    if len(proxies) != 1:
        return [f"compose.yaml has {len(proxies)} caddy services, not one"]
    ((name, proxy),) = proxies.items()
    source = mounted(proxy, "/etc/caddy/Caddyfile")
    if source not in files:
        return [f"{name} mounts {source} as its Caddyfile, not one of {FILES}"]
    blocks = list(caddy_blocks(files[source]))
    sites = [int(label[1:]) for label, _ in blocks if re.fullmatch(r":\d+", label)]
    routes = [body for label, body in blocks if label == f"handle {EVENTS_PATH}"]
    problems = []
    if sites != [3000] or "3000:3000" not in [str(port) for port in proxy.get("ports") or []]:
        problems.append(f"{name} listens on {sites} and publishes {proxy.get('ports')}, not 3000 on 3000")
    if len(routes) != 1:
        return [*problems, f"{source} has {len(routes)} `handle {EVENTS_PATH}` blocks, not one"]
    upstreams: set[str] = set()
    for line in routes[0].splitlines():
        if line.split()[:1] == ["reverse_proxy"]:
            upstreams.update(word for word in line.split()[1:] if word != "{")
    port = http_port(files["Dockerfile"])
    wanted = {
        f"{bot}:{environment(service).get('BOT_HTTP_PORT', port)}" for bot, service in replicas(files).items()
    }
    if not wanted or upstreams != wanted:
        problems.append(f"{EVENTS_PATH} goes to {sorted(upstreams)}, not to every replica: {sorted(wanted)}")
    return problems


def package_problems(files: Files) -> list[str]:
    """The image installs from pyproject.toml, README.md, bot/ and runbooks/ (the shipped runbooks);
    the fake Slack's api_ref is not needed to run."""
    setuptools = tomllib.loads(files["pyproject.toml"])["tool"]["setuptools"]
    source = setuptools["package-dir"].get("bot.shipped_runbooks")
    problems = []
    for package in ("bot.shipped_runbooks", "bot.shipped_runbooks.templates"):
        if package not in setuptools["packages"]:
            problems.append(f"pyproject.toml does not list {package}")
    if source is None:
        return [*problems, "pyproject.toml does not say where bot.shipped_runbooks comes from"]
    patterns = setuptools["package-data"].get("bot.shipped_runbooks", [])
    folder = REPO / source
    shipped = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix in (".yml", ".j2")]
    if not any(path.endswith(".yml") for path in shipped) or not any(
        path.endswith(".j2") for path in shipped
    ):
        problems.append(f"{source}/ has no runbooks or no templates")
    for path in shipped:
        if not any(fnmatch.fnmatch(path, pattern) for pattern in patterns):
            problems.append(f"{path} is not package data")
    copied: set[str] = set()
    for args in args_of(files["Dockerfile"], "COPY"):
        copied.update(PurePosixPath(word).as_posix() for word in shlex.split(args)[:-1] if word[:2] != "--")
    ignored = [
        line.strip() for line in files[".dockerignore"].splitlines() if line.strip()[:1] not in ("", "#")
    ]
    for needed in ("pyproject.toml", "README.md", "bot", source):
        if needed not in copied and "." not in copied:
            problems.append(f"the Dockerfile does not copy {needed}")
        if any(fnmatch.fnmatch(needed, pattern) for pattern in ignored):
            problems.append(f".dockerignore leaves out {needed}")
    for unwanted in (".git", ".venv", "incidents.db"):
        if not any(fnmatch.fnmatch(unwanted, pattern) for pattern in ignored):
            problems.append(f".dockerignore sends {unwanted} to the build")
    return problems


CHECKS: dict[str, Callable[[Files], list[str]]] = {
    check.__name__: check
    for check in (
        command_problems,
        port_problems,
        user_problems,
        database_problems,
        proxy_problems,
        package_problems,
    )
}


# --- the tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHECKS)
def test_the_deployment_files_agree_with_the_code(name: str) -> None:
    assert CHECKS[name](repo_files()) == []


MISTAKES = [  # (check, file, what is there, what a slip would write)
    ("command_problems", "Dockerfile", 'CMD ["firebreak", "run"]', 'CMD ["python", "-m", "bot", "run"]'),
    ("command_problems", "Dockerfile", 'CMD ["firebreak", "run"]', 'CMD ["firebreak", "check"]'),
    ("command_problems", "pyproject.toml", 'firebreak = "bot', 'firebreak-bot = "bot'),
    ("port_problems", "Dockerfile", "EXPOSE 3000", "EXPOSE 8080"),
    ("port_problems", "Dockerfile", "BOT_HTTP_PORT=3000", "BOT_HTTP_PORT=8080"),
    ("port_problems", "Dockerfile", "127.0.0.1:3000/healthz", "127.0.0.1:8080/healthz"),
    ("port_problems", "Dockerfile", "127.0.0.1:3000/healthz", "127.0.0.1:3000/health"),
    ("user_problems", "Dockerfile", "USER firebreak", "USER root"),
    ("user_problems", "Dockerfile", "USER firebreak\n", ""),
    ("database_problems", "compose.yaml", "@postgres:5432", "@localhost:5432"),
    ("database_problems", "compose.yaml", "@postgres:5432", "@postgres:5433"),
    ("database_problems", "compose.yaml", "BOT_DB: postgresql://firebreak:firebreak@postgres:5432/firebreak",
     "BOT_DB: /data/incidents.db"),
    ("database_problems", "compose.yaml", "POSTGRES_DB: firebreak", "POSTGRES_DB: incidents"),
    ("database_problems", "compose.yaml", "condition: service_healthy", "condition: service_started"),
    ("database_problems", "compose.yaml", "\n  firebreak-2:\n    <<: *firebreak\n", "\n  firebreak-2:\n"),
    ("proxy_problems", "deploy/Caddyfile", "firebreak-1:3000 firebreak-2:3000", "firebreak-1:3000"),
    ("proxy_problems", "deploy/Caddyfile", "firebreak-2:3000", "firebreak-2:8080"),
    ("proxy_problems", "deploy/Caddyfile", "handle /slack/events", "handle /slack/event"),
    ("proxy_problems", "compose.yaml", '"3000:3000"', '"8080:3000"'),
    ("package_problems", "pyproject.toml", '"templates/*.j2"', '"templates/*.md"'),
    ("package_problems", "pyproject.toml", '"bot.shipped_runbooks", "bot.shipped', '"bot.shipped'),
    ("package_problems", "Dockerfile", "COPY runbooks ./runbooks\n", ""),
    ("package_problems", ".dockerignore", "\n*.db\n", "\n"),
    ("package_problems", ".dockerignore", "\ndocs\n", "\ndocs\nrunbooks\n"),
]  # fmt: skip


@pytest.mark.parametrize(("check", "name", "right", "wrong"), MISTAKES)
def test_each_check_catches_its_mistake(check: str, name: str, right: str, wrong: str) -> None:
    files = repo_files()
    assert files[name].count(right) == 1, f"{right!r} is no longer in {name}: update MISTAKES"
    files[name] = files[name].replace(right, wrong)
    assert CHECKS[check](files) != []


class _App:
    """Stands in for Bolt: the test asks whether the server routes a path, not what Slack says."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def dispatch(self, request: BoltRequest) -> BoltResponse:
        self.paths.append("dispatched")
        return BoltResponse(status=200, body="ok")


def _status(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_server_answers_the_paths_the_image_and_the_proxy_use() -> None:
    files = repo_files()
    (health,) = healthcheck_urls(files["Dockerfile"])
    (route,) = [
        label.split()[1]
        for label, _ in caddy_blocks(files["deploy/Caddyfile"])
        if label.startswith("handle ")
    ]
    app = _App()
    server = SlackHTTPServer(cast(App, app), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        assert _status(server.url + urlsplit(health).path) == 200
        assert _status(server.url + route, data=b"{}") == 200 and app.paths == ["dispatched"]
        assert _status(server.url + "/nothing-here") == 404  # the server does not answer every path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
