"""No app imports another app's underscore names (import-linter holds the layers; this holds
the public faces)."""

import ast
from pathlib import Path

from django.conf import settings

APPS = ["core", "audit", "identity", "billing", "claims", "inspections", "commission", "notifications", "portal",
        "backoffice", "api"]


def test_no_app_imports_another_apps_private_names():
    root = Path(settings.BASE_DIR)
    offences = []
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    top = node.module.split(".")[0]
                    if top in APPS and top != app:
                        offences += [f"{path.relative_to(root)}: {node.module}.{a.name}" for a in node.names
                                     if a.name.startswith("_")]
    assert offences == []
