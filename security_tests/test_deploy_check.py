"""``manage.py check --deploy`` with the documented production environment
(deploy/borc.env.example, its placeholders filled in) passes with no warning, and fails when
the development login is switched on."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def production_environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_", "DATABASE_URL"))}
    for line in (ROOT / "deploy" / "borc.env.example").read_text().splitlines():
        match = LINE.match(line)
        if match:
            env[match[1]] = match[2]
    # What the operator fills in (the file says change-me / leaves these empty).
    env |= {"SECRET_KEY": secrets.token_urlsafe(50), "OIDC_ISSUER": "https://sso.example.az",
            "OIDC_CLIENT_ID": "e-xidmet"}
    return env | overrides


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_documented_production_environment_passes_check_deploy():
    result = check_deploy(production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_login_in_production_fails_check_deploy():
    result = check_deploy(production_environment(DEV_LOGIN_ENABLED="true"))
    assert result.returncode != 0
    assert "identity.E005" in result.stderr + result.stdout
