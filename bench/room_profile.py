"""The room's GETs in-process (the Flask test client, no server, no network): time per page and a profile.

    .venv/bin/python bench/room_profile.py build --backend sqlite --out /tmp/room.json
    .venv/bin/python bench/room_profile.py time --data /tmp/room.json [--root /work/main] [--gets 40]
    .venv/bin/python bench/room_profile.py profile --data /tmp/room.json --page recorder [--top 40]
    .venv/bin/python bench/room_profile.py drop --data /tmp/room.json

`build` makes the page budgets' big room (tests/page_data.py: 30 agenda items, 300 points) in a scratch SQLite file
or PostgreSQL schema and writes where it is to a JSON file. `time` logs in the recorder and an attendee and times
GETs of the recorder's room, the attendee's room and the shared screen, interleaved, after warming each; it prints
per page the p50/p95 of the CPU time of the process and of the wall time, as JSON. `--root` imports the app from
another checkout (main's, for a before/after in the same run on the same data: alternate the two processes).
`profile` runs cProfile over `--gets` GETs of one page and prints the top functions by cumulative and own time,
and the split: the room's context (live.base_context), Jinja (render_template) and the rest of the request.
`drop` removes the PostgreSQL schema `build` made (the runs in between share it).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PAGES = (("recorder", "recorder", "/meetings/{room}/room", "议题30第10条"),
         ("attendee", "attendee", "/meetings/{room}/room", "议题30第10条"),
         ("screen", "attendee", "/meetings/{room}/screen", "议题13"))


def _use_root(root: Path) -> None:
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(HERE / "bench"))
    os.environ.pop("DATABASE_URL", None)


def build(backend: str, out: Path) -> None:
    _use_root(HERE)
    from live_fanout import scratch_database
    from minutes import create_app
    from minutes.core import timefmt
    from minutes.extensions import db
    from tests import page_data
    from tests.conftest import new_meeting, new_user, set_clock

    url, schema = scratch_database(backend, Path(tempfile.mkdtemp(prefix="room-profile-")), name="roomprof")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "OUTBOX_DELIVER_ON_COMMIT": False, "EMBEDDED_TICK": False})
    with app.app_context(), app.test_request_context():
        db.create_all()
        office = page_data.office(new_user, set_clock)
        room, host, recorder, attendee = page_data.big_room(office, new_meeting, set_clock)
        info = {"url": url, "schema": schema, "room": room.id, "host": host.username,
                "recorder": recorder.username, "attendee": attendee.username}
        db.session.commit()
        timefmt.freeze(None)
        db.session.remove()
        db.engine.dispose()
    out.write_text(json.dumps(info))
    print(json.dumps(info))


def _app_and_clients(info: dict):
    from minutes import create_app
    from tests.conftest import PASSWORD

    app = create_app({"SQLALCHEMY_DATABASE_URI": info["url"], "SECRET_KEY": "bench-secret",
                      "OUTBOX_DELIVER_ON_COMMIT": False, "EMBEDDED_TICK": False, "WTF_CSRF_ENABLED": False})
    clients = {}
    for who in ("recorder", "attendee"):
        client = app.test_client()
        response = client.post("/login", data={"username": info[who], "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        clients[who] = client
    pages = [(name, clients[who], path.format(**info), expect) for name, who, path, expect in PAGES]
    return app, pages


def _get(client, path: str, expect: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and expect in response.get_data(as_text=True), (path, response.status_code)


def time_pages(info: dict, gets: int) -> dict:
    import gc

    _app, pages = _app_and_clients(info)
    for _ in range(3):
        for _name, client, path, expect in pages:
            _get(client, path, expect)
    gc.collect()
    gc.freeze()  # as gunicorn.conf.py's post_worker_init
    gc.set_threshold(10_000, 10, 10)
    cpu: dict[str, list[float]] = {name: [] for name, *_ in pages}
    wall: dict[str, list[float]] = {name: [] for name, *_ in pages}
    for _ in range(gets):
        for name, client, path, expect in pages:
            c0, w0 = time.process_time(), time.perf_counter()
            _get(client, path, expect)
            cpu[name].append((time.process_time() - c0) * 1000)
            wall[name].append((time.perf_counter() - w0) * 1000)

    def p95(values):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]

    return {name: {"cpu_p50": statistics.median(cpu[name]), "cpu_p95": p95(cpu[name]),
                   "wall_p50": statistics.median(wall[name]), "wall_p95": p95(wall[name])} for name in cpu}


def profile(info: dict, page: str, gets: int, top: int) -> None:
    _app, pages = _app_and_clients(info)
    (name, client, path, expect), = [p for p in pages if p[0] == page]
    for _ in range(3):
        _get(client, path, expect)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(gets):
        _get(client, path, expect)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt / gets * 1000
    split = {}
    for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        key = None
        if function == "base_context" and filename.endswith("room/live.py"):
            key = "room context (live.base_context)"
        elif function == "render_template" and filename.endswith("flask/templating.py"):
            key = "Jinja (render_template)"
        if key:
            split[key] = split.get(key, 0) + ct / gets * 1000
    print(f"{name}: {total:.1f} ms a GET under the profiler; " + "; ".join(f"{k} {v:.1f} ms" for k, v in split.items()))
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(top)
        print(text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "time", "profile", "drop"))
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--root", type=Path, default=HERE)
    parser.add_argument("--gets", type=int, default=40)
    parser.add_argument("--page", default="recorder", choices=[p[0] for p in PAGES])
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    if args.command == "build":
        build(args.backend, args.out)
        return
    _use_root(args.root)
    info = json.loads(args.data.read_text())
    if args.command == "drop":
        from live_fanout import drop_schema

        drop_schema(info["schema"])
        return
    if args.command == "time":
        print(json.dumps({"root": str(args.root), "load": os.getloadavg()[0], **time_pages(info, args.gets)}))
    else:
        profile(info, args.page, args.gets, args.top)


if __name__ == "__main__":
    main()
