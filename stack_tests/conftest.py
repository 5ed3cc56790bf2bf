"""The production topology test starts `scripts/stack.py` (PostgreSQL, Redis, S3, nginx, two
gunicorn instances, two workers, the scheduler and the sinks) and takes it apart while it works.
It needs nginx, redis-server and PostgreSQL's server binaries, and takes a few minutes: it runs
when STACK_TESTS=1 (`.ci/run`, `make stack-test`), not in `make test`."""

from __future__ import annotations

import os

if os.environ.get("STACK_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]
