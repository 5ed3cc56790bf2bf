"""Gunicorn configuration of the web server (reference deployment and `make stack`).

    gunicorn -c deploy/gunicorn.conf.py config.wsgi:application

Every value can be changed from the environment, like the Django settings; the defaults suit
one instance behind nginx on a 2-4 core machine. Sizing: docs/deployment.md.
"""

import datetime
import json
import os
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # gunicorn ships no types


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Where to listen: GUNICORN_BIND ("127.0.0.1:8001", "unix:/run/borc/web-1.sock"), else PORT on
# loopback. nginx in front is the only client; gunicorn is never exposed directly.
bind = [os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]

# Processes x threads. Requests are mostly short database round trips, so a few processes with
# threads each (gthread) use the cores without one process per concurrent request.
# WEB_CONCURRENCY is the variable gunicorn and most platforms use for the process count.
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# A request taking longer than this is killed (the worker is replaced); nginx waits a little
# longer (proxy_read_timeout) so the client gets gunicorn's answer, not nginx's.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # nginx keeps upstream connections open

# Recycle each worker after about this many requests; the jitter stops all workers of an
# instance from restarting at the same moment. Bounds any slow memory growth (PDF, Pillow).
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# nginx sends X-Forwarded-Proto; only trust it from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Heartbeat files in memory, not on a possibly slow disk (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs, no data
proc_name = os.environ.get("GUNICORN_PROC_NAME", "borc-web")

# Both logs to stderr/stdout (journald or supervisord collects them). The access log is one
# JSON object per line (JsonAccessLogger below), with nginx's X-Request-ID to join the two.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = json.dumps(
    {
        "remote_addr": "%(h)s",
        "forwarded_for": "%({x-forwarded-for}i)s",
        "request_id": "%({x-request-id}i)s",
        "method": "%(m)s",
        "path": "%(U)s",
        "query": "%(q)s",
        "status": "%(s)s",
        "bytes": "%(B)s",
        "duration_ms": "%(M)s",
        "referer": "%(f)s",
        "user_agent": "%(a)s",
        "pid": "%(p)s",  # "<1234>": the brackets are dropped below
    }
)


class JsonAccessLogger(Logger):
    """Writes each access log line as valid JSON: the fields of ``access_log_format`` filled
    from gunicorn's atoms and encoded by ``json.dumps`` (a plain format string would not escape
    a quote in a path or a user agent)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: datetime.timedelta) -> None:
        if not self.access_log_enabled:
            return
        # The wrapper looks headers up case-insensitively and gives "-" for a missing atom.
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        record: dict[str, object] = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "logger": "gunicorn.access",
        }
        for key, template in json.loads(self.cfg.access_log_format).items():
            value = template % atoms
            if key == "pid":
                value = value.strip("<>")
            if key in ("status", "bytes", "duration_ms", "pid"):
                try:
                    record[key] = int(value)
                    continue
                except ValueError:
                    pass
            record[key] = None if value == "-" else value
        try:
            self.access_log.info(json.dumps(record, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - never fail a request because of its log line
            self.error("Failed to write the access log line", exc_info=True)


logger_class = JsonAccessLogger


# /metrics with several worker processes: prometheus_client's multiprocess mode keeps each
# worker's samples in files in PROMETHEUS_MULTIPROC_DIR (one directory per instance, since it
# is emptied when the instance starts); a dead worker's live gauges are dropped.
def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
