"""Reads under concurrency on the production server: SQLite against PostgreSQL on the same box.

    .venv/bin/python bench/read_throughput.py [--clients 20] [--seconds 5] [--backends sqlite,postgresql] [--no-write]

What it does, per database (SQLite always; PostgreSQL when one answers on TEST_POSTGRES_URL):

1. Seeds an in-progress meeting (bench/write_path.py's seed: 10 agenda items, 30 points) and a read-only API
   token of a participant.
2. Starts the server as `make serve` does (gunicorn -c gunicorn.conf.py, its default: one gevent worker
   without REDIS_URL) on that database.
3. One sequential client first (median of 50 requests), then `wrk` with `--clients` connections for
   `--seconds` seconds, both on `GET /api/v1/meetings/<id>/room` (the room's JSON: the request issue 21
   measured at 0.62–0.69× SQLite on PostgreSQL, with 536–587 failed reads a second on SQLite before the
   token bookkeeping moved out of the read). Successful requests per second, errors (non-2xx and socket
   errors), latency p50/p99 as wrk reports them.

Baseline in the same run: `GET /healthz` (no login, one `SELECT 1`) with the same wrk settings, so the
ratio says what the room's read costs beyond the server's own overhead. Needs Debian's `wrk`.

Results go to docs/BENCHMARKS.md, section "Read throughput" (other sections are left alone).
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess  # nosec B404 - runs wrk, a fixed local program
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SECTION = "## Read throughput"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")

# bench/ is on the path when a benchmark runs
from live_fanout import drop_schema, scratch_database, write_results  # noqa: E402
from write_path import postgres_reachable, seed  # noqa: E402


def prepare(backend: str, tmp: str) -> tuple[str, str, int, str | None]:
    """Create and seed the database; return (DATABASE_URL for the server, token, meeting id, PG schema)."""
    os.environ.pop("DATABASE_URL", None)
    from minutes import create_app
    from minutes.api import service as api
    from minutes.extensions import db
    from minutes.people.models import User

    url, schema = scratch_database(backend, Path(tmp))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "OUTBOX_DELIVER_ON_COMMIT": False, "EMBEDDED_TICK": False, "SQLALCHEMY_ENGINE_OPTIONS": {}})
    with app.app_context():
        db.create_all()
        info = seed(10, 30)
        reader = db.session.scalar(db.select(User).where(User.username == "bench-p1"))
        _, token = api.create_token(reader, "读吞吐基准", read_only=True)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url, token, info["meeting_id"], schema


def sequential_ms(port: int, path: str, token: str, runs: int = 50) -> float:
    times = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(runs + 5):
        start = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return statistics.median(times[5:])


def wrk(port: int, path: str, token: str | None, clients: int, seconds: int) -> dict:
    """Run wrk; successful requests per second, errors, latency p50/p99 (ms)."""
    args = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,  # nosec B603
                         check=True, timeout=seconds + 60).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    elapsed = float(re.search(r"requests in ([\d.]+)s", out).group(1))

    def latency(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"ok_per_s": (total - (int(bad.group(1)) if bad else 0)) / elapsed, "errors": errors,
            "p50": latency("50"), "p99": latency("99")}


def run_backend(backend: str, clients: int, seconds: int) -> dict:
    from tests.server import Gunicorn

    tmp = tempfile.mkdtemp(prefix="read-bench-")
    url, token, meeting_id, schema = prepare(backend, tmp)
    path = f"/api/v1/meetings/{meeting_id}/room"
    try:
        with Gunicorn(url, Path(tmp) / "gunicorn.log") as server:
            sequential = sequential_ms(server.port, path, token)
            health = wrk(server.port, "/healthz", None, clients, seconds)
            room = wrk(server.port, path, token, clients, seconds)
        return {"backend": backend, "sequential_ms": sequential, "health": health, "room": room,
                "load": os.getloadavg()[0]}
    finally:
        drop_schema(schema)
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: list[dict], clients: int, seconds: int) -> str:
    when = time.strftime("%Y-%m-%d %H:%M")
    lines = [SECTION, "",
             f"`bench/read_throughput.py`, run {when} on {os.cpu_count()} CPU cores ({platform.machine()}, Python "
             f"{platform.python_version()}), everything on 127.0.0.1. Server as `make serve` runs it (gunicorn, one "
             f"gevent worker, no REDIS_URL). `GET /api/v1/meetings/<id>/room` (10 agenda items, 30 points) with a "
             f"read-only Bearer token: one sequential client (median of 50), then `wrk` with {clients} connections "
             f"for {seconds} s. Baseline: `GET /healthz` with the same wrk settings. Targets (issue 21): 0 errors on "
             f"either database, PostgreSQL ≥ 0.8× SQLite's successful requests per second.", "",
             "| database | sequential | room: ok req/s | errors | p50 / p99 | healthz req/s (baseline) | room ÷ baseline "
             "| load |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        room, health = r["room"], r["health"]
        lines.append(f"| {r['backend']} | {r['sequential_ms']:.1f} ms | {room['ok_per_s']:.0f} | {room['errors']} | "
                     f"{room['p50']:.1f} / {room['p99']:.1f} ms | {health['ok_per_s']:.0f} | "
                     f"{room['ok_per_s'] / health['ok_per_s']:.2f}× | {r['load']:.1f} |")
    by = {r["backend"]: r for r in results}
    if "sqlite" in by and "postgresql" in by:
        ratio = by["postgresql"]["room"]["ok_per_s"] / by["sqlite"]["room"]["ok_per_s"]
        lines += ["", f"PostgreSQL serves **{ratio:.2f}×** SQLite's successful reads per second "
                      f"({'meets' if ratio >= 0.8 else 'misses'} the 0.8× target); errors: "
                      f"SQLite {by['sqlite']['room']['errors']}, PostgreSQL {by['postgresql']['room']['errors']}."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("read_throughput: skipped — needs Debian's `wrk` (apt-get install wrk)")
        return
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not postgres_reachable():
            print(f"read_throughput: no PostgreSQL at {PG_URL}: skipped")
            continue
        results.append(run_backend(backend, args.clients, args.seconds))
    text = report(results, args.clients, args.seconds)
    print(text)
    if not args.no_write:
        write_results(text, SECTION)


if __name__ == "__main__":
    main()
