"""Page times on the production server: the main pages' p50/p95 on SQLite and PostgreSQL, the collector frozen or not.

    .venv/bin/python bench/pages.py [--rounds 40] [--repeats 2] [--backends sqlite,postgresql] [--no-write]

What it does, per database (SQLite always; PostgreSQL when one answers on TEST_POSTGRES_URL):

1. Builds the data of the page budgets (tests/page_data.py, the builders tests/test_page_budgets.py counts
   statements on), all in one database: twelve colleagues, a month of meetings (four held, two with their minutes
   out, one going on, three coming), a meeting going on with 30 agenda items and 300 points, a meeting whose
   minutes have 10 versions, 2,000 actions.
2. Starts the server as `make serve` does (gunicorn -c gunicorn.conf.py: one gevent worker without REDIS_URL)
   on that database, logs three people in through the form (the host, the recorder, an attendee) and times
   GETs of each page over loopback, from sending the request to the last byte (a new connection per request,
   as tests/server.py's client does): the room for the recorder, for an attendee and the shared screen, the
   dashboard, a meeting page, the minutes page (10 versions), the actions list (2,000 actions), the archive and
   a search. Each page is warmed 3 times, then `--rounds` rounds each GET every page once (interleaved, so a
   burst of load elsewhere on the box hits every page alike).
3. *Before* and *after*: the same server with `GUNICORN_GC_FREEZE=0` (Python's collector as it comes) and
   without it (gunicorn.conf.py's post_worker_init: gc.collect(); gc.freeze(); threshold 10,000), alternated
   `--repeats` times per database so that drift of the box's load falls on both alike. The worker's resident
   memory (VmRSS from /proc) is read after the app is loaded and again after the timed rounds.

Baseline in the same run: `GET /healthz` (no login, one `SELECT 1`), timed in the same rounds.
The clock is the real one (the data's dates are in June 2026), so meetings "going on" started months ago.

Results go to docs/BENCHMARKS.md, section "Page budgets" (other sections are left alone).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SECTION = "## Page budgets"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
MODES = (("before", {"GUNICORN_GC_FREEZE": "0"}), ("after", {}))
#: (name, who, path template, a text the page must contain)
PAGES = (
    ("room (recorder)", "recorder", "/meetings/{room}/room", "议题30第10条"),
    ("room (attendee)", "attendee", "/meetings/{room}/room", "议题30第10条"),
    ("screen", "attendee", "/meetings/{room}/screen", "议题13"),
    ("dashboard", "host", "/", "预算审批流程"),
    ("meeting page", "host", "/meetings/{coming}", "上线验收标准1"),
    ("minutes page (10 versions)", "recorder", "/meetings/{minutes}/minutes", "第10版"),
    ("actions (2,000)", "host", "/actions", "优化投诉提报模板"),
    ("archive", "host", "/archive", "季度协调会"),
    ("search", "host", "/archive/search?q=%E6%8A%95%E8%AF%89", "季度协调会"),  # q=投诉
)

# bench/ is on the path when a benchmark runs
from live_fanout import drop_schema, percentile, scratch_database, write_results  # noqa: E402
from write_path import postgres_reachable  # noqa: E402


def prepare(backend: str, tmp: str) -> tuple[str, dict, str | None]:
    """Create the database and build the pages' data; (DATABASE_URL for the server, ids and usernames, PG schema)."""
    os.environ.pop("DATABASE_URL", None)
    from minutes import create_app
    from minutes.core import timefmt
    from minutes.extensions import db
    from tests import page_data
    from tests.conftest import new_meeting, new_user, set_clock

    url, schema = scratch_database(backend, Path(tmp))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "OUTBOX_DELIVER_ON_COMMIT": False, "EMBEDDED_TICK": False, "SQLALCHEMY_ENGINE_OPTIONS": {}})
    with app.app_context(), app.test_request_context():
        db.create_all()
        office = page_data.office(new_user, set_clock)
        history = page_data.history(office, new_meeting, set_clock)
        page_data.two_thousand_actions(history)
        minutes, _recorder, _version = page_data.minutes_with_ten_versions(office, new_meeting, set_clock)
        room, host, recorder, attendee = page_data.big_room(office, new_meeting, set_clock)
        info = {"room": room.id, "coming": history["coming"][0].id, "minutes": minutes.id,
                "host": host.username, "recorder": recorder.username, "attendee": attendee.username}
        db.session.commit()
        timefmt.freeze(None)
        db.session.remove()
        db.engine.dispose()
    return url, info, schema


def timed_get(client, path: str, expect: str | None) -> float:
    start = time.perf_counter()
    status, body = client.request("GET", path, timeout=60)
    elapsed = (time.perf_counter() - start) * 1000
    assert status == 200, (path, status, body[:300])
    assert expect is None or expect in body, (path, expect)
    return elapsed


def worker_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def serve_and_time(url: str, info: dict, env: dict, rounds: int, log: Path) -> dict:
    """One server (`make serve`'s set-up plus `env`): the pages timed `rounds` times each, the worker's memory."""
    from tests.conftest import PASSWORD
    from tests.server import Gunicorn, HttpClient

    with Gunicorn(url, log, **env) as server:
        (worker,) = server.wait_workers()
        rss_loaded = worker_rss_kb(worker)
        clients = {who: HttpClient(server.port).login(info[who], PASSWORD) for who in ("host", "recorder", "attendee")}
        pages = [(name, clients[who], path.format(**info), expect) for name, who, path, expect in PAGES]
        pages.append(("healthz (baseline)", HttpClient(server.port), "/healthz", None))
        times: dict[str, list[float]] = {name: [] for name, *_ in pages}
        for _ in range(3):
            for _name, client, path, expect in pages:
                timed_get(client, path, expect)
        for _ in range(rounds):
            for name, client, path, expect in pages:
                times[name].append(timed_get(client, path, expect))
        rss_after = worker_rss_kb(worker)
    return {"times": times, "rss_loaded": rss_loaded, "rss_after": rss_after}


def run_backend(backend: str, rounds: int, repeats: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="pages-bench-")
    started = time.monotonic()
    url, info, schema = prepare(backend, tmp)
    built = time.monotonic() - started
    loads = [os.getloadavg()[0]]
    merged = {mode: {"times": {}, "rss_loaded": [], "rss_after": []} for mode, _ in MODES}
    try:
        for n in range(repeats):
            for mode, env in MODES:
                one = serve_and_time(url, info, env, rounds, Path(tmp) / f"gunicorn-{mode}-{n}.log")
                for name, values in one["times"].items():
                    merged[mode]["times"].setdefault(name, []).extend(values)
                merged[mode]["rss_loaded"].append(one["rss_loaded"])
                merged[mode]["rss_after"].append(one["rss_after"])
                loads.append(os.getloadavg()[0])
                print(f"  {backend} {mode} #{n + 1}: room (recorder) p50 "
                      f"{statistics.median(one['times']['room (recorder)']):.1f} ms, p95 "
                      f"{percentile(one['times']['room (recorder)'], 0.95):.1f} ms", flush=True)
        return {"backend": backend, "modes": merged, "loads": loads, "built_s": built}
    finally:
        drop_schema(schema)
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: list[dict], rounds: int, repeats: int) -> str:
    when = time.strftime("%Y-%m-%d %H:%M")
    n = rounds * repeats
    lines = [SECTION, "",
             f"`bench/pages.py`, run {when} on {os.cpu_count()} CPU cores ({platform.machine()}, Python "
             f"{platform.python_version()}), everything on 127.0.0.1; **the box was shared** with other work (load "
             f"average per database below), so read the ratios, measured in the same run, before the milliseconds. "
             f"Server as `make serve` runs it (gunicorn -c gunicorn.conf.py, one gevent worker, no REDIS_URL); "
             f"times from the client's request to the last byte over loopback, a new connection per request. "
             f"Data: tests/page_data.py, the page budgets' builders (room: 30 agenda items, 300 points). "
             f"*Before*: `GUNICORN_GC_FREEZE=0` (Python's garbage collector as it comes); *after*: gunicorn.conf.py's "
             f"post_worker_init (gc.collect(), gc.freeze(), generation-0 threshold 10,000). {n} GETs per page and "
             f"mode ({rounds} rounds × {repeats} servers, before and after alternated, pages interleaved). Baseline: "
             f"`GET /healthz` in the same rounds. Goals (issue 21): the room p95 ≤ 50 ms, every other page "
             f"p95 ≤ 100 ms.", ""]
    for r in results:
        before, after = r["modes"]["before"], r["modes"]["after"]
        base_b = statistics.median(before["times"]["healthz (baseline)"])
        base_a = statistics.median(after["times"]["healthz (baseline)"])
        lines += [f"**{r['backend']}** (load {min(r['loads']):.1f}–{max(r['loads']):.1f}; baseline `/healthz` p50 "
                  f"{base_b:.1f} ms before, {base_a:.1f} ms after):", "",
                  "| page | before p50 | p95 | p95 ÷ p50 | after p50 | p95 | p95 ÷ p50 | after ÷ before p50 | p95 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, *_ in (*PAGES, ("healthz (baseline)",)):
            b, a = before["times"][name], after["times"][name]
            b50, b95, a50, a95 = statistics.median(b), percentile(b, 0.95), statistics.median(a), percentile(a, 0.95)
            lines.append(f"| {name} | {b50:.1f} ms | {b95:.1f} ms | {b95 / b50:.2f}× | {a50:.1f} ms | {a95:.1f} ms | "
                         f"{a95 / a50:.2f}× | {a50 / b50:.2f}× | {a95 / b95:.2f}× |")
        mb = [v / 1024 for v in before["rss_loaded"]], [v / 1024 for v in before["rss_after"]]
        ma = [v / 1024 for v in after["rss_loaded"]], [v / 1024 for v in after["rss_after"]]
        lines += ["", f"Worker memory (VmRSS), app loaded → after the timed rounds: before "
                      f"{statistics.mean(mb[0]):.1f} → {statistics.mean(mb[1]):.1f} MB, after "
                      f"{statistics.mean(ma[0]):.1f} → {statistics.mean(ma[1]):.1f} MB "
                      f"(after ÷ before, at the end: {statistics.mean(ma[1]) / statistics.mean(mb[1]):.2f}×).", ""]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not postgres_reachable():
            print(f"pages: no PostgreSQL at {PG_URL}: skipped")
            continue
        results.append(run_backend(backend, args.rounds, args.repeats))
    text = report(results, args.rounds, args.repeats)
    print(text)
    if not args.no_write:
        write_results(text, SECTION)


if __name__ == "__main__":
    main()
