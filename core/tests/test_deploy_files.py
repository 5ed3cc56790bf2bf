"""The reference deployment in deploy/ does not go stale: the environment template lists every
variable the settings read, the systemd units start commands that exist with the committed
configuration, and `make stack` uses the same nginx and gunicorn files (stack_tests run them)."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

from django.core.management import get_commands

BASE = Path(__file__).resolve().parents[2]
DEPLOY = BASE / "deploy"


def _settings_variables() -> set[str]:
    source = (BASE / "config" / "settings.py").read_text("utf-8")
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))


def test_the_environment_template_lists_every_variable_the_settings_read():
    template = (DEPLOY / "borc.env.example").read_text("utf-8")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", template, re.M))
    read = _settings_variables()
    assert len(read) > 50  # the pattern still finds the settings' variables
    assert sorted(read - listed) == []


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / name)
    return unit


def test_the_systemd_units_start_existing_commands_with_the_committed_configuration():
    commands = get_commands()
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {"borc-web@.service", "borc-worker@.service", "borc-scheduler.service"}
    for path in units:
        service = _unit(path.name)["Service"]
        assert service["EnvironmentFile"] == "/etc/borc/borc.env"
        assert service["Restart"] in ("always", "on-failure"), path.name  # a crashed process comes back
        argv = shlex.split(service["ExecStart"])
        if argv[1] == "manage.py":
            assert argv[2] in commands, (path.name, argv[2])
        else:
            assert Path(argv[0]).name == "gunicorn"
            config = argv[argv.index("-c") + 1]
            assert (BASE / config).exists(), config


def test_stack_uses_the_committed_nginx_site_and_gunicorn_configuration():
    stack = (BASE / "scripts" / "stack.py").read_text("utf-8")
    assert '"deploy" / "nginx" / "borc.conf"' in stack
    assert "-c deploy/gunicorn.conf.py" in stack
    site = (DEPLOY / "nginx" / "borc.conf").read_text("utf-8")
    for directive in ("client_max_body_size", "proxy_set_header X-Forwarded-Proto", "X-Request-ID",
                      "proxy_request_buffering"):
        assert directive in site, directive
