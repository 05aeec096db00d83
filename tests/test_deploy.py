"""deploy/: the systemd units and the compose recipe name commands and paths that exist, and restart
every process (docs/reliability.md, "Supervision")."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from app.cli import cli as linli_cli

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PROCESSES = {"web", "worker", "cron"}


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8").replace("\\\n", " "))
    return parser


def _routes(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()}


def _health_paths(text: str) -> set[str]:
    return set(re.findall(r"/healthz(?:/\w+)?|/metrics", text))


def test_systemd_units_restart_every_process_and_use_commands_that_exist(app):
    units = {"web": "linli-web.service", "worker": "linli-worker@.service", "cron": "linli-cron.service"}
    for process, name in units.items():
        unit = _unit(name)
        assert unit["Service"]["Restart"] == "always", name
        assert "postgresql.service" in unit["Unit"]["After"] or process == "cron", name
        assert unit["Unit"]["PartOf"] == "linli.target"
    assert _unit("linli-worker@.service")["Service"]["ExecStart"].endswith("linli worker")
    assert _unit("linli-cron.service")["Service"]["ExecStart"].endswith("linli cron")
    assert {"worker", "cron", "serve"} <= set(linli_cli.commands)
    web_text = (DEPLOY / "systemd" / "linli-web.service").read_text(encoding="utf-8")
    assert _health_paths(web_text) <= _routes(app) and "/healthz/ready" in web_text
    assert "PROMETHEUS_MULTIPROC_DIR=/run/linli-web" in web_text


def test_compose_runs_every_process_with_restarts_and_health_checks(app):
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "migrate"} | PROCESSES <= set(services)
    for name in {"postgres", "redis"} | PROCESSES:
        assert services[name]["restart"] == "always", name
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "/healthz/ready" in web_check and _health_paths(web_check) <= _routes(app)
    assert services["worker"]["command"] == ["linli", "worker"]
    assert services["cron"]["command"] == ["linli", "cron"]
    for name in PROCESSES:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
