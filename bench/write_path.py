"""The room's write path in-process: what the recorder's point POST costs before every tab can have it.

    .venv/bin/python bench/write_path.py [--posts 50] [--backends sqlite,postgresql] [--profile] [--no-write]

What it does, per database (SQLite always; PostgreSQL when one answers on TEST_POSTGRES_URL):

1. Seeds an in-progress meeting half-way through: a host, a recorder, 12 participants from 4 departments,
   10 agenda items, 100 points already recorded under the first five, the fifth one current.
2. Logs the recorder in through the real form (Flask test client, in this process) and posts points to
   the room's form endpoint `POST /meetings/<id>/points` as htmx does (HX-Request), each to the current
   agenda item with a department, a few warm-up posts first. For each POST it records the statements sent
   (a `before_cursor_execute` listener): those until the point is handed to the broker and in the whole
   request, and the time from the POST to the publish (what every open tab waits for) and of the whole
   request.
3. Baseline, in the same run on the same database: a bare INSERT of one row and COMMIT (a durable write,
   the least a write path can cost).
4. With `--profile`, a profile of the timed POSTs is printed (pyinstrument's call tree when it is installed,
   else cProfile's top functions); `--statements` prints each statement of the last POST and when it ran.

Results go to docs/BENCHMARKS.md, section "Room write path" (other sections are left alone).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SECTION = "## Room write path"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
PASSWORD = "bench-password-2026"
HX = {"HX-Request": "true"}
DEPARTMENTS = ("客服部", "技术部", "法务部", "财务部")

# bench/ is on the path when a benchmark runs
from live_fanout import drop_schema, scratch_database, write_results  # noqa: E402


def postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
        return True
    except Exception:  # any failure means "no server here"
        return False


def seed(items: int, points: int) -> dict:
    """An in-progress meeting with a recorder, participants, `items` agenda items and `points` points."""
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service as meetings
    from minutes.people.service import create_user
    from minutes.room import recording, service as room

    host = create_user("bench-host", "王主持", DEPARTMENTS[0], PASSWORD)
    recorder = create_user("bench-recorder", "李记录", DEPARTMENTS[0], PASSWORD)
    people = [create_user(f"bench-p{i}", f"参会{i}", DEPARTMENTS[i % 4], PASSWORD) for i in range(12)]
    start = timefmt.utcnow() + timedelta(minutes=5)
    meeting = meetings.create_meeting(host, meetings.MeetingInput(
        topic="跨部门投诉处理复盘", goal="明确投诉处理各环节的时限", expected_outcome="形成行动方案",
        scenario="problem", starts_at=start, ends_at=start + timedelta(hours=2), location="301会议室",
        organizer_department_id=host.department_id))
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [p.id for p in people], "participant")
    agenda = [meetings.add_agenda_item(host, meeting, f"议题{i + 1}：投诉处理第{i + 1}环节", 10,
                                       people[i % 12].department_id) for i in range(items)]
    db.session.commit()
    room.start_meeting(recorder, meeting)
    db.session.commit()
    # Half-way through: the first half of the agenda discussed, the recorder on the last of those items.
    discussed = agenda[:max(1, items // 2)]
    for i in range(points):
        kind = ("viewpoint", "viewpoint", "consensus")[i % 3]
        item = discussed[i * len(discussed) // points]
        if room.room_of(meeting).current_item_id != item.id:
            room.set_current_item(recorder, meeting, item.id)
        recording.add_point(recorder, meeting, item.id, kind, f"第{i + 1}条：客服部需在收到投诉后1小时内补充问题描述",
                            people[i % 12].department_id if kind == "viewpoint" else "")
    db.session.commit()
    return {"meeting_id": meeting.id, "item_id": item.id, "department_id": people[0].department_id}


def baseline_ms(runs: int) -> list[float]:
    """A bare INSERT of one row and COMMIT, on a connection of the app's engine (a scratch table)."""
    from sqlalchemy import text

    from minutes.extensions import db

    with db.engine.connect() as conn:
        conn.execute(text("CREATE TABLE bench_write_baseline (id INTEGER PRIMARY KEY, note VARCHAR(200))"))
        conn.commit()
        times = []
        for i in range(runs + 5):
            t0 = time.perf_counter()
            conn.execute(text("INSERT INTO bench_write_baseline (id, note) VALUES (:id, :note)"),
                         {"id": i + 1, "note": "客服部需在收到投诉后1小时内补充问题描述"})
            conn.commit()
            if i >= 5:
                times.append((time.perf_counter() - t0) * 1000)
        conn.execute(text("DROP TABLE bench_write_baseline"))
        conn.commit()
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def run_backend(backend: str, posts: int, profile: bool) -> dict:
    os.environ.pop("DATABASE_URL", None)
    from sqlalchemy import event

    from minutes import create_app
    from minutes.extensions import db
    from minutes.room import live

    tmp = tempfile.mkdtemp(prefix="write-path-bench-")
    url, schema = scratch_database(backend, Path(tmp))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "WTF_CSRF_ENABLED": False, "OUTBOX_DELIVER_ON_COMMIT": False, "EMBEDDED_TICK": False,
                      "BASE_URL": "http://minutes.test", "SQLALCHEMY_ENGINE_OPTIONS": {}})
    try:
        with app.app_context():
            db.create_all()
            info = seed(10, 100)
            db.session.remove()
        hub = live.broker(app)
        statements: list[str] = []
        spans: list[list] = []
        marks: dict = {}
        real_publish = hub.publish

        def publish(message):
            marks.setdefault("published", (time.perf_counter(), len(statements)))
            return real_publish(message)

        hub.publish = publish

        def note(conn, cursor, statement, *args):
            statements.append(statement)
            spans.append([time.perf_counter(), None])

        def noted(conn, cursor, statement, *args):
            spans[-1][1] = time.perf_counter()

        client = app.test_client()
        response = client.post("/login", data={"username": "bench-recorder", "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        url_path = f"/meetings/{info['meeting_id']}/points"
        with app.app_context():
            engine = db.engine
        results = []
        profiler = _profiler() if profile else None
        warm = 5
        event.listen(engine, "before_cursor_execute", note)
        event.listen(engine, "after_cursor_execute", noted)
        try:
            for i in range(warm + posts):
                statements.clear()
                spans.clear()
                marks.clear()
                form = {"agenda_item_id": info["item_id"], "kind": "viewpoint",
                        "department_id": info["department_id"], "text": f"第{i + 1}条新观点：投诉升级后2小时内回访客户"}
                if profiler is not None and i >= warm:
                    (profiler.enable if isinstance(profiler, cProfile.Profile) else profiler.start)()
                c0, t0 = time.process_time(), time.perf_counter()
                response = client.post(url_path, headers=HX, data=form)
                t1, c1 = time.perf_counter(), time.process_time()
                if profiler is not None and i >= warm:
                    (profiler.disable if isinstance(profiler, cProfile.Profile) else profiler.stop)()
                assert response.status_code == 200, response.get_data(as_text=True)[:500]
                assert "published" in marks, "the point was never published"
                if i >= warm:
                    published_at, before = marks["published"]
                    results.append({"publish_ms": (published_at - t0) * 1000, "request_ms": (t1 - t0) * 1000,
                                    "cpu_ms": (c1 - c0) * 1000,
                                    "before": before, "total": len(statements),
                                    "spans": [((a - t0) * 1000, (b - a) * 1000) for a, b in spans],
                                    "statements": list(statements)})
        finally:
            event.remove(engine, "before_cursor_execute", note)
            event.remove(engine, "after_cursor_execute", noted)
            hub.publish = real_publish
        with app.app_context():
            base = baseline_ms(posts)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_schema(schema)
    publish = [r["publish_ms"] for r in results]
    request = [r["request_ms"] for r in results]
    out = {"backend": backend, "posts": posts,
           "before": statistics.median(r["before"] for r in results),
           "total": statistics.median(r["total"] for r in results),
           "statements": results[-1]["statements"],
           "spans": [(statistics.median(r["spans"][k][0] for r in results if len(r["spans"]) > k),
                      statistics.median(r["spans"][k][1] for r in results if len(r["spans"]) > k))
                     for k in range(len(results[-1]["spans"]))],
           "publish_p50": percentile(publish, 50), "publish_p95": percentile(publish, 95),
           "request_p50": percentile(request, 50), "request_p95": percentile(request, 95),
           "cpu_p50": percentile([r["cpu_ms"] for r in results], 50),
           "base_p50": percentile(base, 50), "base_p95": percentile(base, 95)}
    if profiler is not None:
        out["profile"] = _profile_text(profiler)
    return out


def _profiler():
    """pyinstrument when it is installed (a wall-clock call tree; not a requirement), else cProfile."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return cProfile.Profile()
    return Profiler(interval=0.0002)


def _profile_text(profiler) -> str:
    if isinstance(profiler, cProfile.Profile):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(45)
        return buffer.getvalue()
    return profiler.output_text(unicode=True, show_all=False)


def report(results: list[dict]) -> str:
    load = os.getloadavg()[0]
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    lines = [
        SECTION, "",
        f"`bench/write_path.py`, run {when} UTC on {os.cpu_count()} CPU cores ({platform.machine()}, Python "
        f"{platform.python_version()}; load average {load:.1f} at the end, the box is shared). In one process, "
        f"no server: the recorder's `POST /meetings/<id>/points` (htmx, the room's form endpoint) through the "
        f"Flask test client into a meeting half-way through: 10 agenda items, 14 invited people, 100 points "
        f"recorded under the first five, each POST adding one to the fifth (the item under discussion, so the point "
        f"is appended to the search block); {results[0]['posts'] if results else 0} POSTs after 5 warm-up ones. "
        f"*Statements*: as sent by SQLAlchemy (PostgreSQL's driver sends BEGIN unseen, SQLite's BEGIN of the "
        f"answer's read transaction is counted). *POST → publish* "
        f"is the time until the committed point is handed to the broker (what every open tab waits for), "
        f"*request* the whole answer (the fresh form rendered after the commit). Baseline: a bare INSERT of one "
        f"row and COMMIT on the same database in the same run.", "",
        "| database | statements to publish | statements in all | POST → publish p50 / p95 | request p50 / p95 "
        "| CPU per request p50 | baseline INSERT+COMMIT p50 / p95 | POST → publish p50 ÷ baseline |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['before']:.0f} | {r['total']:.0f} | {r['publish_p50']:.1f} / {r['publish_p95']:.1f} ms "
            f"| {r['request_p50']:.1f} / {r['request_p95']:.1f} ms | {r['cpu_p50']:.1f} ms "
            f"| {r['base_p50']:.2f} / {r['base_p95']:.2f} ms "
            f"| {r['publish_p50'] / r['base_p50']:.1f}× |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the timed POSTs")
    parser.add_argument("--statements", action="store_true", help="print the statements of the last POST")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not postgres_reachable():
            print(f"PostgreSQL not reachable at {PG_URL}: skipped")
            continue
        result = run_backend(backend, args.posts, args.profile)
        print(f"== {backend}: {result['before']:.0f} statements to publish, {result['total']:.0f} in all; "
              f"POST → publish p50 {result['publish_p50']:.1f} ms p95 {result['publish_p95']:.1f} ms; "
              f"request p50 {result['request_p50']:.1f} ms p95 {result['request_p95']:.1f} ms "
              f"(CPU p50 {result['cpu_p50']:.1f} ms); "
              f"baseline INSERT+COMMIT p50 {result['base_p50']:.2f} ms p95 {result['base_p95']:.2f} ms", flush=True)
        if args.statements:
            for k, (s, (at, took)) in enumerate(zip(result["statements"], result["spans"]), 1):
                print(f"  {k:2d}. at {at:6.1f} ms, {took:5.2f} ms  {' '.join(s.split())[:150]}")
        if args.profile:
            print(result["profile"])
        results.append(result)
    text = report(results)
    print(text)
    if not args.no_write:
        write_results(text, SECTION)


if __name__ == "__main__":
    main()
