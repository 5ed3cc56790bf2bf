"""`make stack`: the production topology on this machine, under a process manager.

PostgreSQL (a private instance in var/stack/pg, or DATABASE_URL), Redis, an S3-compatible
server (moto), nginx on 127.0.0.1:$STACK_PORT (default 8080) in front of two gunicorn
instances, two task workers, the scheduler, an SMTP sink (var/stack/mail/*.eml) and an SMS
gateway stand-in (var/stack/sms.jsonl). Everything but PostgreSQL runs under supervisord, which
restarts a program that dies; PostgreSQL is started and stopped with pg_ctl. The first run
migrates and loads demo data; every run collects static files. Ctrl-C stops everything.

Uses deploy/gunicorn.conf.py and deploy/nginx/borc.conf as they are deployed
(docs/deployment.md); only addresses differ. Logs: var/stack/logs/.
"""

# Every command is built here from fixed paths and free ports, never from outside input.
# ruff: noqa: S603
from __future__ import annotations

import functools
import glob
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
# STACK_DIR: where the stack keeps its data, logs and sinks (a test runs one in a temporary folder).
STACK = Path(os.environ.get("STACK_DIR") or BASE / "var" / "stack").resolve()
VENV_BIN = BASE / ".venv" / "bin"
PY = str(VENV_BIN / "python")
BUCKET = "borc-media"
S3_KEY, S3_SECRET, S3_REGION = "stack", "stack-secret", "us-east-1"  # moto accepts any
SMS_USER, SMS_PASSWORD = "stack", "stack-sms"
BILLING_TOKEN = "stack-billing"  # noqa: S105 - the local stand-in's token, loopback only
METRICS_TOKEN = "stack-metrics"  # noqa: S105 - a local demo stack, loopback only


def say(text: str) -> None:
    print(f"stack: {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"stack: {what} did not come up within {timeout:.0f} s (logs: {STACK / 'logs'})")


def run(*args: str, **kwargs: Any) -> None:
    subprocess.run(args, check=True, cwd=BASE, **kwargs)


class Postgres:
    """A private PostgreSQL cluster in var/stack/pg, from Debian's binaries. initdb and the
    server refuse to run as root, so as root they run as the `postgres` system user."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
        if not found:
            raise SystemExit(
                "stack: no PostgreSQL in /usr/lib/postgresql/*/bin (apt-get install postgresql), or set DATABASE_URL"
            )
        self.bin = Path(found[-1]).parent
        self.dir = STACK / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.started = False
        self.options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as e:
                raise SystemExit("stack: running as root needs the `postgres` system user for PostgreSQL") from e
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _cmd(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        # A new session: the terminal's Ctrl-C reaches this script only, which stops the
        # server in order (pg_ctl stop) after the programs that use it.
        return subprocess.run([*self.as_user, *args], check=True, start_new_session=True, **kwargs)

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            say(f"initdb {self.data}")
            self._cmd(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                stdout=subprocess.DEVNULL,
            )
        options = self.options
        self._cmd(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "postgresql.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            stdout=subprocess.DEVNULL,
        )
        self.started = True
        url = f"postgres://postgres@127.0.0.1:{self.port}"
        exists = subprocess.run(
            [str(self.bin / "psql"), f"{url}/postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname='borc'"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not exists:
            run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "borc")
        return f"{url}/borc"

    def stop(self) -> None:
        if self.started:
            self._cmd(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", stdout=subprocess.DEVNULL
            )
            self.started = False


def settings_mention(name: str) -> bool:
    return name in (BASE / "config" / "settings.py").read_text("utf-8")


def importable(module: str) -> bool:
    return subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def render(template: Path, values: dict[str, str]) -> str:
    text = template.read_text("utf-8")
    for key, value in values.items():
        text = text.replace("{{ " + key + " }}", value)
    left = re.findall(r"\{\{ \w+ \}\}", text)
    if left:
        raise SystemExit(f"stack: {template} has values nobody fills in: {', '.join(left)}")
    return text


def nginx_conf(port: int, web_ports: list[int], run_as: str) -> Path:
    ndir = STACK / "nginx"
    for sub in ("logs", "temp/body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi"):
        (ndir / sub).mkdir(parents=True, exist_ok=True)
    if run_as:  # root: workers run as nobody and write uploads being buffered to temp/
        for path in (ndir / "temp").rglob("*"):
            shutil.chown(path, "nobody", "nogroup")
        shutil.chown(ndir / "temp", "nobody", "nogroup")
    server = render(
        BASE / "deploy" / "nginx" / "borc.conf",
        {
            "upstream_servers": "\n    ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in web_ports),
            "listen": f"127.0.0.1:{port}",
            "server_name": "127.0.0.1 localhost",
            "static_root": str(BASE / "var" / "static"),
            "access_log": str(ndir / "logs" / "access.log"),
        },
    )
    (ndir / "borc.conf").write_text(server, "utf-8")
    # The main file, which on a server is Debian's /etc/nginx/nginx.conf: here every path
    # nginx writes is under var/stack/nginx, so it runs without touching /etc or /var.
    main = f"""# Generated by scripts/stack.py; the server block is deploy/nginx/borc.conf rendered.
{run_as}
worker_processes 2;
pid {ndir}/nginx.pid;
error_log {ndir}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    client_body_temp_path {ndir}/temp/body;
    proxy_temp_path {ndir}/temp/proxy;
    fastcgi_temp_path {ndir}/temp/fastcgi;
    uwsgi_temp_path {ndir}/temp/uwsgi;
    scgi_temp_path {ndir}/temp/scgi;
    include {ndir}/borc.conf;
}}
"""
    (ndir / "nginx.conf").write_text(main, "utf-8")
    return ndir / "nginx.conf"


# supervisord starts low numbers first and stops them last: the services, the web instances,
# the workers and the scheduler, and nginx last (so it is the first to stop taking requests).
PRIORITY = {
    "infra": "100",
    "app": "200",
    "redis": "100",
    "s3": "100",
    "smtp": "100",
    "sms": "100",
    "billing": "150",
    "web": "200",
    "worker": "300",
    "scheduler": "300",
    "nginx": "400",
}


def supervisord_conf(programs: dict[str, dict[str, str]]) -> Path:
    logs = STACK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    lines = [
        "; Generated by scripts/stack.py. supervisorctl -c var/stack/supervisord.conf status",
        "[unix_http_server]",
        f"file={STACK}/supervisor.sock",
        "chmod=0700",
        "",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={logs}/supervisord.log",
        f"pidfile={STACK}/supervisord.pid",
        f"childlogdir={logs}",
        f"directory={BASE}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{STACK}/supervisor.sock",
        "",
    ]
    for name, options in programs.items():
        lines.append(f"[program:{name}]")
        merged = {
            "priority": PRIORITY.get(name.split("-")[0], "300"),
            "directory": str(BASE),
            "autostart": "true",
            "autorestart": "true",
            "startsecs": "2",
            "startretries": "5",
            "stopasgroup": "true",
            "killasgroup": "true",
            "stopwaitsecs": "35",
            "redirect_stderr": "true",
            "stdout_logfile": f"{logs}/{name}.log",
            "stdout_logfile_maxbytes": "10MB",
            "stdout_logfile_backups": "2",
            **options,
        }
        lines += [f"{k}={v.replace('%', '%%')}" for k, v in merged.items()]
        lines.append("")
    groups = {
        "infra": [n for n, o in programs.items() if o.get("autostart") != "false"],
        "app": [n for n, o in programs.items() if o.get("autostart") == "false"],
    }
    for group, members in groups.items():
        lines += [f"[group:{group}]", f"programs={','.join(members)}", f"priority={PRIORITY[group]}", ""]
    path = STACK / "supervisord.conf"
    path.write_text("\n".join(lines), "utf-8")
    return path


def create_bucket(endpoint: str) -> None:
    import boto3  # type: ignore[import-untyped]  # no stubs installed; moto[server] brings boto3

    s3 = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET, region_name=S3_REGION
    )
    if BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=BUCKET)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except OSError:
        return False


APP_VARIABLES = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "PORTAL_URL", "DEV_LOGIN_ENABLED", "CONN_MAX_AGE",
    "SECURE_PROXY_SSL_HEADER", "METRICS_TOKEN", "EMAIL_URL", "DATABASE_URL", "CACHE_URL",
)


def describe(port: int, ports: dict[str, int], pg: Postgres | None, *, supervisor_ctl: list[str]) -> None:
    """var/stack/stack.json (addresses, sinks, the environment of the programs: for tests and
    tools) and var/stack/env (`set -a; . var/stack/env` then manage.py talks to the stack)."""
    env = {k: v for k, v in os.environ.items()
           if k in APP_VARIABLES or k.startswith(("AWS_", "SMS_", "BILLING_", "DELIVERY_", "API_"))}
    info = {
        "site": f"http://127.0.0.1:{port}",
        "ports": ports,
        "env": env,
        "supervisorctl": supervisor_ctl,
        "mail_dir": str(STACK / "mail"),
        "sms_file": str(STACK / "sms.jsonl"),
        "bucket": BUCKET,
        "postgres": None if pg is None else {
            "bin": str(pg.bin), "data": str(pg.data), "port": pg.port, "as_user": pg.as_user,
            "log": str(pg.dir / "postgresql.log"), "options": pg.options,
        },
    }
    (STACK / "stack.json").write_text(json.dumps(info, indent=2), "utf-8")
    (STACK / "env").write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(env.items())), "utf-8")
    (STACK / "env").chmod(0o600)
    (STACK / "stack.json").chmod(0o600)


def main() -> int:
    port = int(os.environ.get("STACK_PORT", "8080"))
    if port_open(port):
        raise SystemExit(f"stack: 127.0.0.1:{port} is taken; STACK_PORT=<another port> make stack")
    for tool in ("nginx", "redis-server"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"stack: `{tool}` is missing: apt-get install {tool}")
    STACK.mkdir(parents=True, exist_ok=True)
    if (STACK / "supervisord.pid").exists():
        try:
            os.kill(int((STACK / "supervisord.pid").read_text()), 0)
            raise SystemExit("stack: another `make stack` runs from this directory (var/stack/supervisord.pid)")
        except (ProcessLookupError, ValueError):
            pass

    pg: Postgres | None = None
    supervisord: subprocess.Popen[bytes] | None = None
    ctl = [str(VENV_BIN / "supervisorctl"), "-c", str(STACK / "supervisord.conf")]
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT explicitly too: a shell that starts this in the background leaves SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        ports = {name: free_port() for name in ("redis", "s3", "smtp", "sms", "billing", "web-1", "web-2")}
        secret = STACK / "secret_key"
        if not secret.exists():
            secret.write_text(secrets.token_urlsafe(50))
            secret.chmod(0o600)
        site = f"http://127.0.0.1:{port}"
        env = {
            "DEBUG": "false",
            "SECRET_KEY": secret.read_text().strip(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": f"{site},http://localhost:{port}",
            "PORTAL_URL": site,
            # Demo logins: the development identity provider stands in for the national SSO.
            "DEV_LOGIN_ENABLED": os.environ.get("DEV_LOGIN_ENABLED", "true"),
            "CONN_MAX_AGE": "60",
            # As in production: nginx says which scheme the client used.
            "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
            # /metrics answers with this bearer token (behind nginx every caller is 127.0.0.1,
            # so an address rule would let anyone in).
            "METRICS_TOKEN": METRICS_TOKEN,
            "EMAIL_URL": f"smtp://127.0.0.1:{ports['smtp']}",
            "SMS_BACKEND": "notifications.sms.HttpGatewaySmsBackend",
            "SMS_GATEWAY_URL": f"http://127.0.0.1:{ports['sms']}/send",
            "SMS_GATEWAY_USER": SMS_USER,
            "SMS_GATEWAY_PASSWORD": SMS_PASSWORD,
            # The billing system: its stand-in (scripts/billing_standin.py) serves the demo tables
            # over the contract of docs/billing-api.yaml; the product reads and posts through HTTP.
            "BILLING_URL": f"http://127.0.0.1:{ports['billing']}/billing/v1",
            "BILLING_TOKEN": BILLING_TOKEN,
            "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
            "GUNICORN_THREADS": os.environ.get("GUNICORN_THREADS", "4"),
            "PYTHONUNBUFFERED": "1",
        }
        # Redis and S3 through the settings' own variables (CACHE_URL, AWS_*), once the client
        # libraries are installed; without them the servers run but Django keeps its defaults.
        notes = []
        if importable("redis"):
            env["CACHE_URL"] = f"redis://127.0.0.1:{ports['redis']}/0"
        else:
            notes.append("Redis runs, but CACHE_URL is not set: the `redis` package is not installed")
        s3_endpoint = f"http://127.0.0.1:{ports['s3']}"
        if settings_mention("AWS_STORAGE_BUCKET_NAME") and importable("storages"):
            env.update(
                {
                    "AWS_STORAGE_BUCKET_NAME": BUCKET,
                    "AWS_S3_ENDPOINT_URL": s3_endpoint,
                    "AWS_ACCESS_KEY_ID": S3_KEY,
                    "AWS_SECRET_ACCESS_KEY": S3_SECRET,
                    "AWS_S3_REGION_NAME": S3_REGION,
                    "AWS_S3_ADDRESSING_STYLE": "path",  # bucket.127.0.0.1 does not resolve
                    "AWS_S3_USE_SSL": "false",
                }
            )
        else:
            notes.append(
                "the S3 server runs, but uploads stay in MEDIA_ROOT: settings do not read AWS_* "
                "or django-storages is not installed"
            )
        for key, value in env.items():
            os.environ.setdefault(key, value)  # what the caller sets wins
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"  # the production settings, always

        if os.environ.get("DATABASE_URL"):
            say("using DATABASE_URL from the environment")
        else:
            pg = Postgres()
            os.environ["DATABASE_URL"] = pg.start()
            say(f"PostgreSQL {pg.bin.parent.name} on 127.0.0.1:{pg.port} (data: {pg.data})")

        run_as = "user nobody nogroup;" if os.geteuid() == 0 else ""
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = nginx_conf(port, [ports["web-1"], ports["web-2"]], run_as)
        run(
            nginx,
            "-t",
            "-q",
            "-p",
            str(STACK / "nginx"),
            "-e",
            str(STACK / "nginx" / "logs" / "error.log"),
            "-c",
            str(conf),
        )
        (STACK / "mail").mkdir(exist_ok=True)
        gunicorn = f"{VENV_BIN / 'gunicorn'} -c deploy/gunicorn.conf.py config.wsgi:application"
        scheduler_interval = int(os.environ.get("SCHEDULER_INTERVAL", "60"))
        programs: dict[str, dict[str, str]] = {
            "redis": {
                "command": f'redis-server --bind 127.0.0.1 --port {ports["redis"]} --save "" '
                f"--appendonly no --dir {STACK}"
            },
            "s3": {"command": f"{VENV_BIN / 'moto_server'} -H 127.0.0.1 -p {ports['s3']}"},
            "smtp": {"command": f"{PY} scripts/smtp_sink.py --port {ports['smtp']} --dir {STACK / 'mail'}"},
            "sms": {
                "command": f"{PY} scripts/sms_standin.py --port {ports['sms']} --out {STACK / 'sms.jsonl'} "
                f"--user {SMS_USER} --password {SMS_PASSWORD}"
            },
            # The programs below start after the migrations (supervisorctl start app:*).
            "billing": {
                "command": f"{PY} scripts/billing_standin.py --host 127.0.0.1 --port {ports['billing']} "
                f"--source db --token {BILLING_TOKEN}",
                "autostart": "false",
            },
            **{
                f"web-{n}": {
                    "command": gunicorn,
                    "autostart": "false",
                    "environment": f'GUNICORN_BIND="127.0.0.1:{ports[f"web-{n}"]}",GUNICORN_PROC_NAME="borc-web-{n}",'
                    f'PROMETHEUS_MULTIPROC_DIR="{STACK / "metrics" / f"web-{n}"}"',
                }
                for n in (1, 2)
            },
            **{
                f"worker-{n}": {
                    "command": f"{PY} manage.py run_worker --queue-name * --interval 1",
                    "autostart": "false",
                }
                for n in (1, 2)
            },
            # One scheduler, as in production; STACK_SCHEDULERS=2 runs a second one, which the
            # per-period locks in Redis keep from running a job twice.
            **{
                "scheduler" + (f"-{n}" if n > 1 else ""): {
                    "command": f"{PY} manage.py run_periodic --interval {scheduler_interval}",
                    "autostart": "false",
                }
                for n in range(1, int(os.environ.get("STACK_SCHEDULERS", "1")) + 1)
            },
            "nginx": {
                "command": f"{nginx} -p {STACK / 'nginx'} -e {STACK / 'nginx' / 'logs' / 'error.log'} "
                f"-c {conf} -g 'daemon off;'",
                "autostart": "false",
                "stopwaitsecs": "10",
            },
        }
        sconf = supervisord_conf(programs)
        # A new session, so the terminal's Ctrl-C reaches only this script, which then shuts
        # the programs down in order.
        supervisord = subprocess.Popen(
            [str(VENV_BIN / "supervisord"), "-c", str(sconf)], cwd=BASE, start_new_session=True
        )
        for name in ("redis", "s3", "smtp", "sms"):
            wait_for(name, functools.partial(port_open, ports[name]))
        create_bucket(s3_endpoint)
        say(f"Redis, S3 (bucket {BUCKET}), SMTP sink and SMS stand-in are up")

        manage = [PY, "manage.py"]
        run(*manage, "migrate", "--no-input", "-v0")
        run(*manage, "collectstatic", "--no-input", "-v0")
        accounts = os.environ.get("DEMO_ACCOUNTS", "2000")
        run(*manage, "seed_demo", "--if-empty", "--accounts", accounts)
        run(*ctl, "start", "app:*", stdout=subprocess.DEVNULL)
        wait_for("the site through nginx", lambda: http_ok(f"{site}/"), timeout=90)

        run(*manage, "demo_logins", "--port", str(port))
        describe(port, ports, pg, supervisor_ctl=ctl)
        print(
            f"""
  Site (nginx -> gunicorn x2)  {site}/          staff: {site}/office/login/
  gunicorn instances           127.0.0.1:{ports["web-1"]}, 127.0.0.1:{ports["web-2"]}
  PostgreSQL                   {os.environ["DATABASE_URL"]}
  Redis                        redis://127.0.0.1:{ports["redis"]}/0
  S3 (moto)                    {s3_endpoint}/{BUCKET}   (key {S3_KEY} / {S3_SECRET})
  E-mails received             {STACK / "mail"}/*.eml   (SMTP 127.0.0.1:{ports["smtp"]})
  SMS received                 {STACK / "sms.jsonl"}   (gateway http://127.0.0.1:{ports["sms"]}/)
  Billing (stand-in)           {os.environ["BILLING_URL"]}   (faults: POST http://127.0.0.1:{ports["billing"]}/_faults)
  Probes                       {site}/healthz  {site}/readyz  {site}/metrics (Bearer {METRICS_TOKEN})
  Processes                    {" ".join(ctl)} status
  Logs                         {STACK / "logs"}/
""",
            flush=True,
        )
        for note in notes:
            say(f"note: {note}")
        say("running; Ctrl-C stops everything")
        supervisord.wait()
        say(f"supervisord exited ({supervisord.returncode})")
        return 1
    except KeyboardInterrupt:
        stopping = True
        return 0
    except subprocess.CalledProcessError as e:
        say(f"failed: {' '.join(map(str, e.cmd))} exited with {e.returncode}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
        say("stopping..." if stopping else "cleaning up...")
        if supervisord is not None and supervisord.poll() is None:
            # The application first (nginx stops taking requests, workers finish their task),
            # while the services it talks to still run; then the services and supervisord.
            subprocess.run([*ctl, "stop", "app:*"], cwd=BASE, stdout=subprocess.DEVNULL, timeout=90, check=False)
            supervisord.send_signal(signal.SIGTERM)  # stops the rest, then itself
            try:
                supervisord.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(supervisord.pid, signal.SIGKILL)
                supervisord.wait()
        if pg is not None:
            pg.stop()
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
