#!/usr/bin/env python3
"""The two commands of the shop back office: ``run`` (Odoo with demo data) and ``test``.

Both do their own set-up on a fresh clone: missing Python packages are installed with
pip, a PostgreSQL role Odoo accepts is created when needed, and the Odoo addons path is
derived from the installed Odoo 19. Only the standard library is used before set-up.
"""

from __future__ import annotations

import argparse
import getpass
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDONS = ("mail_crm_shop", "shop_connector", "shipping_exchange", "review_request")
RUN_DB = os.environ.get("SHOP_DB", "shop_backoffice")
ODOO_MISSING = (
    "Odoo 19 is not importable by {python}: install it from Odoo's 19.0 source "
    "(see README.md, 'Prerequisites'), then run this command again."
)


def say(text: str) -> None:
    print(f"[backoffice] {text}", flush=True)


def banner(text: str) -> None:
    line = "=" * max(60, len(text) + 4)
    print(f"\n{line}\n  {text}\n{line}", flush=True)


# ---------------------------------------------------------------- set-up helpers
def _requirement_names(path: Path) -> list[str]:
    names = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            names += _requirement_names(path.parent / line[2:].strip())
            continue
        names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0])
    return names


def ensure_packages(requirements: Path) -> None:
    """Install the requirements file with pip unless every package is already present."""
    missing = []
    for name in _requirement_names(requirements):
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if not missing:
        return
    say(f"installing missing Python packages: {', '.join(missing)}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
        check=True,
    )


def ensure_debian_packages(binaries: dict[str, str]) -> list[str]:
    """Install Debian packages for missing binaries when we may; return what is still missing."""
    missing = {b: p for b, p in binaries.items() if not _which(b)}
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing Debian packages: {', '.join(sorted(set(missing.values())))}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *set(missing.values())],
            check=False,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    return [b for b in binaries if not _which(b)]


def _which(binary: str) -> str | None:
    return shutil.which(binary) or next(
        (str(p) for p in (Path("/usr/sbin") / binary, Path("/usr/bin") / binary) if p.exists()),
        None,
    )


def odoo_status() -> tuple[bool, str]:
    """Tell whether ``odoo`` 19 imports in this interpreter, and why not."""
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo.release as r; print(r.series)"],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    if probe.returncode != 0:
        return False, ODOO_MISSING.format(python=sys.executable)
    series = probe.stdout.strip()
    if series != "19.0":
        return False, f"Odoo {series} is installed, but these addons need Odoo 19.0."
    return True, "Odoo 19.0"


def odoo_addons_path() -> str:
    """Odoo's own addons folders followed by ours."""
    out = subprocess.run(
        [sys.executable, "-c", "import odoo; print('\\n'.join(odoo.__path__))"],
        capture_output=True,
        text=True,
        cwd="/",
        check=True,
    ).stdout.split()
    paths = [p for p in os.environ.get("ODOO_ADDONS_PATH", "").split(",") if p]
    for package_dir in map(Path, out):
        for candidate in (package_dir / "addons", package_dir.parent / "addons"):
            if (candidate / "web" / "__manifest__.py").exists() or (
                candidate / "base" / "__manifest__.py"
            ).exists():
                paths.append(str(candidate))
    paths.append(str(ROOT / "addons"))
    return ",".join(dict.fromkeys(paths))


def db_options() -> list[str]:
    """Connection options for a PostgreSQL role Odoo accepts (never ``postgres``)."""
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER") or getpass.getuser()
    if user == "postgres":
        user = "shop_backoffice"
    _ensure_role(host, port, user)
    options = ["--db_host", host, "--db_port", port, "--db_user", user]
    if os.environ.get("PGPASSWORD"):
        options += ["--db_password", os.environ["PGPASSWORD"]]
    return options


def _ensure_role(host: str, port: str, user: str) -> None:
    import psycopg2

    try:
        psycopg2.connect(host=host, port=port, user=user, dbname="postgres").close()
        return
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise SystemExit(f"PostgreSQL at {host}:{port} refused role {user!r}: {exc}") from exc
    say(f"creating PostgreSQL role {user!r} (superuser, as Odoo needs to create databases)")
    conn = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'CREATE ROLE "{user}" SUPERUSER LOGIN')
    conn.close()


def odoo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "odoo", "--addons-path", odoo_addons_path(), *db_options(), *args]


def _db_settings() -> dict[str, str]:
    options = db_options()
    return dict(zip(options[0::2], options[1::2], strict=False))


def drop_database(dbname: str) -> None:
    """Drop a database and its filestore with Odoo's own database manager."""
    opts = _db_settings()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "db",
            "--db_host",
            opts["--db_host"],
            "--db_port",
            opts["--db_port"],
            "-r",
            opts["--db_user"],
            "drop",
            dbname,
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
    )


def write_odoo_config(path: Path) -> Path:
    """An Odoo configuration file with our addons path and database settings."""
    lines = ["[options]", f"addons_path = {odoo_addons_path()}"]
    lines += [f"{key.lstrip('-')} = {value}" for key, value in _db_settings().items()]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- run
def _installed_addons(dbname: str, options: list[str]) -> set[str]:
    import psycopg2

    opts = dict(zip(options[0::2], options[1::2], strict=False))
    try:
        conn = psycopg2.connect(
            host=opts["--db_host"], port=opts["--db_port"], user=opts["--db_user"], dbname=dbname
        )
    except psycopg2.OperationalError:
        return set()
    with conn, conn.cursor() as cr:
        cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed'")
        names = {row[0] for row in cr.fetchall()}
    conn.close()
    return names


def cmd_run(args: argparse.Namespace) -> int:
    ok, reason = odoo_status()
    if not ok:
        say(reason)
        return 2
    ensure_packages(ROOT / "requirements.txt")
    options = db_options()
    base = [
        sys.executable,
        "-m",
        "odoo",
        "--addons-path",
        odoo_addons_path(),
        *options,
        "-d",
        args.database,
    ]
    serve = [
        "--http-interface",
        args.interface,
        "--http-port",
        str(args.port),
        "--db-filter",
        f"^{re.escape(args.database)}$",
    ]
    if not set(ADDONS) <= _installed_addons(args.database, options):
        say(f"installing the four addons with demo data into database {args.database!r}")
        subprocess.run(
            [
                *base,
                "-i",
                ",".join(ADDONS),
                "--with-demo",
                "--stop-after-init",
                "--http-interface",
                "127.0.0.1",
            ],
            check=True,
        )
    else:
        # the code may be newer than the database: update our addons before serving
        serve += ["-u", ",".join(ADDONS)]
    url = f"http://localhost:{args.port}/odoo?db={args.database}"
    banner(f"Shop back office: {url}   login: admin   password: admin")
    os.execv(sys.executable, [*base, *serve])
    return 0  # not reached


# ---------------------------------------------------------------- test
class Suite:
    def __init__(self, name: str):
        self.name, self.ran, self.passed, self.failed, self.note = name, False, 0, 0, ""
        self.failures: list[str] = []  # what failed, repeated in the summary (logs get cut)

    def line(self) -> str:
        if not self.ran:
            return f"  {self.name:<22} DID NOT RUN: {self.note}"
        verdict = "OK" if self.ok else "FAILED"
        return (
            f"  {self.name:<22} {verdict:<7} {self.passed} passed, {self.failed} failed {self.note}"
        )

    @property
    def ok(self) -> bool:
        return self.ran and self.failed == 0 and self.passed > 0


def run_pytest(suite: Suite, target: str, extra: list[str]) -> None:
    banner(f"{suite.name}: pytest {target}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", target, "-p", "no:cacheprovider", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    tail = ""
    for line in proc.stdout:
        print(line, end="", flush=True)
        tail = line if re.search(r"\d+ (passed|failed|error)|no tests ran", line) else tail
        if re.match(r"(FAILED|ERROR) \S", line):
            suite.failures.append(line.strip())
    rc = proc.wait()
    suite.ran = True
    suite.passed = _count(tail, "passed")
    suite.failed = _count(tail, "failed") + _count(tail, "error")
    if rc not in (0,) and suite.failed == 0:
        suite.failed = 1
        suite.note = f"(pytest exit code {rc})"


def _count(text: str, word: str) -> int:
    match = re.search(rf"(\d+) {word}", text)
    return int(match.group(1)) if match else 0


def run_lint(suite: Suite) -> None:
    banner("lint: ruff check, ruff format --check, pylint-odoo (19.0 mandatory checks)")
    checks = [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["pylint", "--rcfile", str(ROOT / ".pylintrc-mandatory"), *_addon_dirs()],
    ]
    suite.ran = True
    for check in checks:
        cmd = (
            [sys.executable, "-m", *check]
            if check[0] != "pylint"
            else [sys.executable, "-m", "pylint", *check[1:]]
        )
        print("$ " + " ".join(check), flush=True)
        if subprocess.run(cmd, cwd=ROOT, check=False).returncode == 0:
            suite.passed += 1
        else:
            suite.failed += 1


def _addon_dirs() -> list[str]:
    return [str(ROOT / "addons" / name) for name in ADDONS]


ODOO_FAILURE = re.compile(r" (ERROR|CRITICAL) ")
ODOO_RESULT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
OUR_WARNING = re.compile(r" WARNING .*(" + "|".join(ADDONS) + ")")


def _echo(line: str) -> None:
    print(line, end="", flush=True)


def _run_odoo(
    cmd: list[str], echo: Callable[[str], None] = _echo
) -> tuple[int, list[str], tuple[int, int, int] | None]:
    """Run Odoo, pass its log to ``echo``, and collect the lines that fail a suite and
    the test result."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    problems, result = [], None
    for line in proc.stdout:
        echo(line)
        if ODOO_FAILURE.search(line) or OUR_WARNING.search(line):
            problems.append(line.rstrip())
        if match := ODOO_RESULT.search(line):
            result = tuple(map(int, match.groups()))
    return proc.wait(), problems, result


def _odoo_reasons(rc: int, problems: list[str], echo: Callable[[str], None] = _echo) -> list[str]:
    reasons = []
    if rc != 0:
        reasons.append(f"odoo exit code {rc}")
    if problems:
        reasons.append(f"{len(problems)} error/warning log lines")
        echo("\n  ".join(["\nLog lines that fail the suite:", *problems[:50]]) + "\n")
    return reasons


def run_odoo_suite(suite: Suite, keep_db: bool) -> None:
    ok, reason = odoo_status()
    if not ok:
        suite.note = reason
        return
    dbname = f"shop_backoffice_test_{os.getpid()}"
    tags = ",".join(f"/{name}" for name in ADDONS)
    cmd = odoo_command(
        "-d",
        dbname,
        "-i",
        ",".join(ADDONS),
        "--test-tags",
        tags,
        "--stop-after-init",
        "--log-level",
        "info",
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(_free_port()),
    )
    banner(f"Odoo suite: fresh database {dbname}, --test-tags {tags}")
    suite.ran = True
    started = time.monotonic()
    rc, problems, result = _run_odoo(cmd)
    suite.failures = [str(problem).strip() for problem in problems]
    if not keep_db:
        drop_database(dbname)
    failed, errors, total = result or (0, 0, 0)
    suite.passed = total - failed - errors
    suite.failed = failed + errors
    if rc != 0 or problems or total == 0:
        suite.failed = max(suite.failed, 1)
    reasons = ["zero Odoo tests ran"] if total == 0 else []
    reasons += _odoo_reasons(rc, problems)
    suite.note = f"in {time.monotonic() - started:.0f}s " + "; ".join(reasons)


def run_demo_check(suite: Suite, echo: Callable[[str], None] = _echo) -> None:
    """Install the four addons WITH demo data, as the run command does: it must load cleanly."""
    ok, reason = odoo_status()
    if not ok:
        suite.note = reason
        return
    dbname = f"shop_backoffice_demo_{os.getpid()}"
    cmd = odoo_command(
        "-d",
        dbname,
        "-i",
        ",".join(ADDONS),
        "--with-demo",
        "--stop-after-init",
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(_free_port()),
    )
    echo(f"[backoffice] Odoo demo data: fresh database {dbname}, the four addons with demo data\n")
    suite.ran = True
    started = time.monotonic()
    rc, problems, _result = _run_odoo(cmd, echo)
    suite.failures = [str(problem).strip() for problem in problems]
    drop_database(dbname)
    if rc == 0 and not problems:
        suite.passed = 1
    else:
        suite.failed = 1
    reasons = _odoo_reasons(rc, problems, echo)
    suite.note = f"in {time.monotonic() - started:.0f}s " + "; ".join(reasons)


class BesideRun:
    """A suite run in a thread beside the others (the demo install: one Odoo process and
    PostgreSQL, while the pure suites use the other core or wait on their local servers).
    Its output is kept and printed as one block when it is joined, so logs don't mix."""

    def __init__(self, suite: Suite, run: Callable[..., None]):
        self.suite, self.lines = suite, []
        self.thread = threading.Thread(target=self._run, args=(run,), daemon=True)
        self.thread.start()

    def _run(self, run: Callable[..., None]) -> None:
        try:
            run(self.suite, echo=self.lines.append)
        except Exception as exc:  # noqa: BLE001 - reported as the suite's failure
            self.suite.ran, self.suite.failed = True, max(self.suite.failed, 1)
            self.suite.note = f"crashed: {exc!r}"

    def join(self, title: str) -> None:
        self.thread.join()
        banner(title)
        print("".join(self.lines), end="", flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cmd_test(args: argparse.Namespace) -> int:
    ensure_packages(ROOT / "requirements-test.txt")
    still_missing = ensure_debian_packages({"dovecot": "dovecot-imapd", "chromium": "chromium"})
    if still_missing:
        say(
            f"missing server binaries for integration tests: {', '.join(still_missing)} "
            "(install Debian's dovecot-imapd and chromium)"
        )
    suites = [
        Suite("lint"),
        Suite("unit (pure)"),
        Suite("integration (servers)"),
        Suite("faults (pure)"),
        Suite("odoo (all four addons)"),
        Suite("odoo demo data"),
        Suite("faults (odoo processes)"),
        Suite("shop day"),
    ]
    lint, unit, integration, faults, odoo_suite, demo, faults_heavy, shop_day = suites
    # the demo install runs beside lint and unit (see BesideRun), its log comes after
    # them; the integration suite's servers and timeouts get the machine to themselves
    demo_run = None if args.no_odoo else BesideRun(demo, run_demo_check)
    if not args.no_lint:
        run_lint(lint)
    else:
        lint.note = "skipped by --no-lint"
    run_pytest(unit, "tests/unit", args.pytest_args)
    if demo_run:
        demo_run.join("Odoo demo data (ran beside lint and unit): its log")
    run_pytest(integration, "tests/integration", args.pytest_args)
    run_pytest(faults, "tests/faults", ["-m", "not heavy", *args.pytest_args])
    odoo_suites = (odoo_suite, demo, faults_heavy, shop_day)
    if args.no_odoo:
        for suite in odoo_suites:
            suite.note = "skipped by --no-odoo"
    else:
        run_odoo_suite(odoo_suite, args.keep_db)
        if odoo_suite.ran:
            # real Odoo processes killed and raced, and a small simulated shop day
            run_pytest(faults_heavy, "tests/faults", ["-m", "heavy", *args.pytest_args])
            run_pytest(shop_day, "tests/shopday", args.pytest_args)
        else:
            faults_heavy.note = shop_day.note = odoo_suite.note

    banner("Summary of suites")
    for suite in suites:
        print(suite.line())
    for suite in suites:
        if suite.failures:
            print(f"\n  {suite.name}: what failed")
            for failure in suite.failures[:30]:
                print(f"    {failure[:300]}")
            if len(suite.failures) > 30:
                print(f"    ... and {len(suite.failures) - 30} more (see the suite's output above)")
    if not odoo_suite.ran:
        print(f"\n  THE ODOO SUITE DID NOT RUN: {odoo_suite.note}")
    failed = [s for s in suites if s.ran and not s.ok]
    required = [unit, integration, faults] + ([lint] if not args.no_lint else [])
    failed += [s for s in required if not s.ran]
    total_passed = sum(s.passed for s in suites)
    total_failed = sum(s.failed for s in suites)
    print(f"\n{total_passed} passed, {total_failed} failed")
    return 1 if failed else 0


# ---------------------------------------------------------------- shop day
def cmd_shop_day(args: argparse.Namespace) -> int:
    """The simulated shop day (package ``shopday``); its own options follow the command."""
    ok, reason = odoo_status()
    if not ok:
        say(reason)
        return 2
    ensure_packages(ROOT / "requirements-test.txt")  # servers of the day, matplotlib
    missing = ensure_debian_packages({"dovecot": "dovecot-imapd"})
    if missing:
        say("the shop day needs Debian's dovecot-imapd (a real IMAP server)")
        return 2
    db_options()  # a PostgreSQL role Odoo accepts
    return subprocess.run(
        [sys.executable, "-m", "shopday", *args.shop_day_args], cwd=ROOT, check=False
    ).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start Odoo 19 with the four addons and demo data")
    run.add_argument("--database", default=RUN_DB)
    run.add_argument("--port", type=int, default=int(os.environ.get("SHOP_HTTP_PORT", 8069)))
    run.add_argument("--interface", default=os.environ.get("SHOP_HTTP_INTERFACE", "127.0.0.1"))
    run.set_defaults(func=cmd_run)
    test = sub.add_parser("test", help="lint, pure, integration and Odoo test suites")
    test.add_argument("--no-odoo", action="store_true", help="skip the Odoo suite")
    test.add_argument("--no-lint", action="store_true", help="skip ruff and pylint-odoo")
    test.add_argument("--keep-db", action="store_true", help="keep the Odoo test database")
    test.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    test.set_defaults(func=cmd_test)
    shop_day = sub.add_parser(
        "shop-day", help="simulate a shop day end to end (see README.md)", add_help=False
    )
    shop_day.add_argument("shop_day_args", nargs=argparse.REMAINDER)
    shop_day.set_defaults(func=cmd_shop_day)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["shop-day"]:  # its options are the shopday package's own
        return cmd_shop_day(argparse.Namespace(shop_day_args=argv[1:]))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
