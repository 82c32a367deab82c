"""Real Odoo processes for fault tests: a scratch database, shell workers, SIGKILL.

Commands, addons path and database options come from ``scripts/backoffice.py`` (the
project's test command), so these tests run against the same Odoo as the rest.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_backoffice():
    name = "shop_backoffice_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "backoffice.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


backoffice = _load_backoffice()


def odoo_available() -> tuple[bool, str]:
    """Whether Odoo 19 is importable by this interpreter (and why not)."""
    return backoffice.odoo_status()


class ScratchDatabase:
    """A fresh database with our addons installed, dropped afterwards."""

    def __init__(self, name: str, addons: tuple[str, ...] = backoffice.ADDONS):
        self.name = name
        self.addons = addons
        self.config = Path(f"/tmp/{name}.conf")
        self.settings = backoffice._db_settings()

    def create(self) -> None:
        backoffice.drop_database(self.name)
        backoffice.write_odoo_config(self.config)
        cmd = backoffice.odoo_command(
            "-d",
            self.name,
            "-i",
            ",".join(self.addons),
            "--stop-after-init",
            "--log-level",
            "warn",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(backoffice._free_port()),
        )
        proc = subprocess.run(
            cmd, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"installing {self.addons} failed:\n{proc.stdout[-6000:]}")

    def drop(self) -> None:
        backoffice.drop_database(self.name)
        self.config.unlink(missing_ok=True)

    def connect(self):
        """A psycopg2 connection in autocommit mode, to watch the books from outside."""
        import psycopg2

        conn = psycopg2.connect(
            host=self.settings["--db_host"],
            port=self.settings["--db_port"],
            user=self.settings["--db_user"],
            password=self.settings.get("--db_password"),
            dbname=self.name,
        )
        conn.autocommit = True
        return conn

    def query(self, sql: str, params=()) -> list[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cr:
                cr.execute(sql, params)
                return cr.fetchall()
        finally:
            conn.close()

    def shell(self, script: str, log: Path) -> subprocess.Popen:
        """Start ``odoo shell`` running ``script`` (``env`` is the superuser environment).

        The process leads its own process group so that a kill reaches every child.
        """
        cmd = [
            sys.executable,
            "-m",
            "odoo",
            "shell",
            "-c",
            str(self.config),
            "-d",
            self.name,
            "--no-http",
            "--log-level",
            "warn",
            "--shell-interface",
            "python",
        ]
        handle = log.open("wb")
        proc = subprocess.Popen(
            cmd,
            cwd="/",
            stdin=subprocess.PIPE,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.stdin.write(textwrap.dedent(script).encode())
        proc.stdin.close()
        handle.close()
        return proc

    def run_shell(self, script: str, log: Path, timeout: float = 600) -> str:
        """Run ``script`` in ``odoo shell`` to its end; return its output, raise on failure."""
        proc = self.shell(script, log)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise
        output = log.read_text(errors="replace")
        if rc != 0 or "Traceback" in output:
            raise RuntimeError(f"odoo shell failed (exit code {rc}):\n{output[-4000:]}")
        return output


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a process started by :meth:`ScratchDatabase.shell` and its children."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout:.0f}s")


def run_at_once(db: ScratchDatabase, tmp_path: Path, name: str, scripts, timeout: float = 300):
    """Start one ``odoo shell`` worker per script and release them at the same moment;
    return their outputs, each worker having ended cleanly (exit 0, no traceback).

    ``scripts``: one callable per worker, ``(ready, go) -> script``; the script touches
    ``ready`` once loaded and waits for ``go``, made when every worker is ready.
    """
    ready = [tmp_path / f"{name}-ready-{i}" for i in range(len(scripts))]
    go = tmp_path / f"{name}-go"
    logs = [tmp_path / f"{name}-{i}.log" for i in range(len(scripts))]
    workers = [
        db.shell(render(flag, go), log)
        for render, flag, log in zip(scripts, ready, logs, strict=True)
    ]
    try:
        wait_until(
            lambda: (
                all(flag.exists() for flag in ready) or any(w.poll() is not None for w in workers)
            ),
            timeout=240,
            what="all workers loaded",
        )
        go.touch()
        started = time.monotonic()
        for worker in workers:
            worker.wait(max(1.0, timeout - (time.monotonic() - started)))
    finally:
        for worker in workers:
            if worker.poll() is None:
                kill_group(worker)
    outputs = [log.read_text(errors="replace") for log in logs]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0 and "Traceback" not in output, output[-4000:]
    return outputs
