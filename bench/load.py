"""Load at a large company's peak: 100 meetings at once, each with a recorder and 30 attendees (3,100 SSE streams).

    .venv/bin/python bench/load.py [--minutes 5] [--meetings 100] [--viewers 30]
                                   [--setups postgresql+redis,sqlite] [--gap-min 3] [--gap-max 10] [--no-write]
                                   [--hosts 1] [--host-cpus "0;1"] [--pool 35+5]

A set-up is a database (`sqlite`, `postgresql`) and, with `+redis`, Redis pub/sub between two gevent workers
(`make serve` with REDIS_URL); without it `make serve`'s default, one gevent worker with the in-process broker.

What it does, on 127.0.0.1:

1. Seeds a fresh database (SQLite file, or a scratch schema in PostgreSQL): 50 started meetings,
   each with its recorder and 20 invited attendees (250 attendee accounts, each in 4 meetings).
2. Starts the production server as `make serve` does (`gunicorn -c gunicorn.conf.py wsgi:app`: 2 gevent
   workers and Redis pub/sub with REDIS_URL, 1 gevent worker without), logs everyone in through the login form.
3. Opens the room's SSE stream for every recorder and attendee (1,050 streams, one asyncio
   process, raw sockets); each stream keeps the set of points it shows the way the page does
   (`update` appends, `resync` replaces) and reconnects with Last-Event-ID if it is dropped.
4. For N minutes every recorder posts a point through the room's form endpoint every 3–10 s
   (uniformly at random); meanwhile an attendee opens a room page about once a second.
5. Reports POST and page latency, delivery latency (from sending the POST to each tab receiving
   the point), throughput, lost and duplicate points per tab (against the database at the end;
   both must be 0), errors, and the server's CPU and memory (gunicorn master and workers, /proc), with the
   memory each open stream costs (the server's RSS with every stream open, less before the first opened).

Several hosts (`--hosts N`, `+redis` set-ups): N gunicorn masters, as the README's "Several hosts behind a proxy"
runs them — the same database, the same REDIS_URL and room prefix, the same SECRET_KEY — each meeting's recorder,
tabs and page loads on one of them (meeting i on host i mod N, as a proxy that keeps a meeting on one host would).
`--host-cpus "0;1"` pins host i's master and workers to the cores of the i-th list (sched_setaffinity), so on one
machine a host has its own cores, as it would on its own box; PostgreSQL, Redis and the load generator are not
pinned. `--pool SIZE+OVERFLOW` sets DATABASE_POOL_SIZE / DATABASE_MAX_OVERFLOW per worker (every worker of every
host together must stay under PostgreSQL's max_connections).

Results go to docs/BENCHMARKS.md, section "Load" (other sections are left alone).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_fanout import (PASSWORD, Session, cpu_seconds, drop_schema, free_port,  # noqa: E402
                         process_tree, raise_nofile, redis_url, scratch_database, start_gunicorn, stop, summarize,
                         write_results)

SECTION = "## Load"
POINT_RE = re.compile(rb'id="point-(\d+)"')
MARK_RE = re.compile(rb"\[P(\d+)\]")


# --- the database ----------------------------------------------------------------------------

def make_app(url: str, **config):
    os.environ.pop("DATABASE_URL", None)
    from minutes import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "OUTBOX_DELIVER_ON_COMMIT": False, **config})


def seed(url: str, meetings: int, viewers: int) -> list[dict]:
    """`meetings` started meetings, each with a recorder (its host) and `viewers` invited attendees."""
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service as planning
    from minutes.people import service as people
    from minutes.room import service as room

    # 300 accounts: a cheap hash keeps seeding and logging in out of the way (login is not measured here).
    app = make_app(url, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    departments = ["客服部", "技术部", "产品部", "法务部", "财务部", "市场部"]
    pool = max(viewers, meetings * viewers // 4)
    out = []
    with app.app_context():
        db.create_all()
        attendees = [people.create_user(f"load-a{i}", f"参会人{i}", departments[i % len(departments)], PASSWORD)
                     for i in range(pool)]
        start = timefmt.utcnow() + timedelta(minutes=5)
        for m in range(meetings):
            recorder = people.create_user(f"load-r{m}", f"记录人{m}", departments[m % len(departments)], PASSWORD)
            meeting = planning.create_meeting(recorder, planning.MeetingInput(
                topic=f"跨部门投诉处理复盘 第{m + 1}场", goal="明确投诉处理各环节的时限", scenario="problem",
                starts_at=start, ends_at=start + timedelta(hours=1), location=f"{m + 301}会议室",
                organizer_department_id=recorder.department_id))
            invited = [attendees[(m * viewers + j) % pool].id for j in range(viewers)]
            planning.invite(recorder, meeting, invited, "participant")
            scribe = people.create_user(f"load-s{m}", f"记录员{m}", departments[m % len(departments)], PASSWORD)
            planning.invite(recorder, meeting, [scribe.id], "recorder")  # starting a meeting needs a recorder
            item = planning.add_agenda_item(recorder, meeting, "客户投诉升级后的处理时效", 30, recorder.department_id)
            room.start_meeting(recorder, meeting)
            db.session.commit()
            out.append({"id": meeting.id, "item": item.id, "recorder": recorder.username,
                        "viewers": [f"load-a{(m * viewers + j) % pool}" for j in range(viewers)],
                        "revision": room.current_revision(meeting.id)})
        db.session.remove()
        db.engine.dispose()
    return out


def points_in_database(url: str) -> dict[int, set[int]]:
    """Every point of every meeting, as the database has it at the end."""
    from minutes.extensions import db
    from minutes.room.models import Point

    app = make_app(url)
    with app.app_context():
        rows = db.session.execute(db.select(Point.meeting_id, Point.id).where(Point.deleted_at.is_(None))).all()
        db.engine.dispose()
    found: dict[int, set[int]] = {}
    for meeting_id, point_id in rows:
        found.setdefault(meeting_id, set()).add(point_id)
    return found


# --- the clients -----------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.post_ms: list[float] = []
        self.page_ms: list[float] = []
        self.delivery_ms: list[float] = []
        self.errors: dict[str, int] = {}
        self.frames = 0
        self.bytes = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Meeting:
    """One meeting under load: when each of its points was posted (by its marker)."""

    def __init__(self, info: dict, port: int):
        self.port = port  #: the host it is served by
        self.id = info["id"]
        self.item = info["item"]
        self.revision = info["revision"]
        self.sent: dict[int, float] = {}
        self.tabs: list[Tab] = []


class Tab:
    """One SSE stream: the points it shows (update appends, resync replaces), as the room page keeps them."""

    def __init__(self, port: int, meeting: Meeting, cookie: str, stats: Stats):
        self.port, self.meeting, self.cookie, self.stats = port, meeting, cookie, stats
        self.last_id = str(meeting.revision)
        self.points: set[int] = set()
        self.arrived: set[int] = set()  # markers of the points seen (for delivery latency, once each)
        self.duplicates = 0
        self.connects = 0
        self.connected = asyncio.Event()
        self.stopping = False
        self.writer: asyncio.StreamWriter | None = None

    async def run(self):
        while not self.stopping:
            try:
                await self._follow()
            except (ConnectionError, asyncio.IncompleteReadError, ValueError, OSError):
                pass
            if self.stopping:
                return
            self.stats.error("SSE stream dropped")
            await asyncio.sleep(2.0)  # the browser's retry

    async def _follow(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 22)
        self.writer = writer
        try:
            writer.write((f"GET /meetings/{self.meeting.id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Accept: text/event-stream\r\nLast-Event-ID: {self.last_id}\r\n"
                          f"Cookie: {self.cookie}\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                self.stats.error(f"SSE answered {head[9:12].decode()}")
                return
            chunked = b"chunked" in head.lower()
            self.connects += 1
            buffer = b""
            while True:
                if chunked:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        return
                    data = (await reader.readexactly(size + 2))[:-2]
                else:
                    data = await reader.read(1 << 16)
                    if not data:
                        return
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self._event(block, time.perf_counter())
        finally:
            writer.close()

    def _event(self, block: bytes, now: float) -> None:
        event, event_id, data = None, None, []
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                event_id = line[4:].decode()
            elif line.startswith(b"event: "):
                event = line[7:]
            elif line.startswith(b"data: "):
                data.append(line[6:])
            elif line.startswith(b": connected"):
                self.connected.set()
        if event_id is not None:
            self.last_id = event_id
        if event is None:
            return
        payload = b"\n".join(data)
        self.stats.frames += 1
        self.stats.bytes += len(block)
        ids = {int(i) for i in POINT_RE.findall(payload)}
        if event == b"resync":
            self.points = ids
        elif event == b"update":
            self.duplicates += len(ids & self.points)
            self.points |= ids
        for mark in MARK_RE.findall(payload):
            k = int(mark)
            if k not in self.arrived and k in self.meeting.sent:
                self.arrived.add(k)
                self.stats.delivery_ms.append((now - self.meeting.sent[k]) * 1000)

    def close(self):
        self.stopping = True
        if self.writer:
            self.writer.close()


async def http_request(port: int, method: str, path: str, cookie: str, body: bytes = b"",
                       headers: dict | None = None, on_send=None) -> tuple[int, float]:
    """One request on a fresh connection (connected before the clock starts, like a warm browser): status, ms."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        request = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n"
                   f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body
        t0 = time.perf_counter()
        if on_send:
            on_send(t0)
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: (\d+)", head)
        if length:
            await reader.readexactly(int(length.group(1)))
        else:
            await reader.read()
        return int(head[9:12]), (time.perf_counter() - t0) * 1000
    finally:
        writer.close()


async def recorder(port: int, meeting: Meeting, session: Session, token: str, stats: Stats, until: float,
                   gaps: tuple[float, float]) -> None:
    """Post a point every 3–10 s (uniform) until `until`."""
    import urllib.parse

    await asyncio.sleep(random.uniform(0, gaps[1]))
    k = 0
    while time.monotonic() < until:
        k += 1
        body = urllib.parse.urlencode({
            "agenda_item_id": meeting.item, "kind": "consensus",
            "text": f"[P{k}] 客服部在收到投诉后1小时内补充完整的问题描述，技术部在24小时内反馈解决方案"}).encode()
        try:
            status, ms = await http_request(port, "POST", f"/meetings/{meeting.id}/points", session.cookie, body,
                                            {"Content-Type": "application/x-www-form-urlencoded",
                                             "X-CSRFToken": token, "HX-Request": "true"},
                                            on_send=lambda t0, k=k: meeting.sent.__setitem__(k, t0))
            stats.post_ms.append(ms)
            if status != 200:
                stats.error(f"POST answered {status}")
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            stats.error("POST failed")
        await asyncio.sleep(random.uniform(*gaps))


async def page_loads(pages: list[tuple[int, str, int]], stats: Stats, until: float) -> None:
    """About one room page a second, by a random attendee (the full page, as a browser loads it, from the host
    that serves the meeting)."""
    while time.monotonic() < until:
        port, cookie, meeting_id = random.choice(pages)
        try:
            status, ms = await http_request(port, "GET", f"/meetings/{meeting_id}/room", cookie)
            stats.page_ms.append(ms)
            if status != 200:
                stats.error(f"page answered {status}")
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            stats.error("page failed")
        await asyncio.sleep(random.uniform(0.5, 1.5))


class ServerProbe:
    """CPU and memory of the gunicorn master and workers (from /proc), sampled while the load runs."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.rss_peak = 0
        self.samples: list[tuple[float, float]] = []

    def rss_mb(self) -> float:
        total = 0
        for pid in server_processes(self.pids):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total / 1024

    async def run(self, until: float):
        while time.monotonic() < until:
            rss = self.rss_mb()
            self.rss_peak = max(self.rss_peak, rss)
            self.samples.append((time.monotonic(), cpu_seconds(server_processes(self.pids))))
            await asyncio.sleep(5)


def server_processes(pids: list[int]) -> list[int]:
    """Every gunicorn master given and its workers."""
    return [pid for master in pids for pid in process_tree(master)]


# --- the run ---------------------------------------------------------------------------------

async def run_load(server_pids: list[int], meetings: list[Meeting], sessions: dict[str, Session],
                   plan: list[dict], tokens: dict[int, str], args) -> dict:
    stats = Stats()
    rss_before_streams = ServerProbe(server_pids).rss_mb()
    tabs = []
    for meeting, info in zip(meetings, plan):
        for username in [info["recorder"], *info["viewers"]]:
            tab = Tab(meeting.port, meeting, sessions[username].cookie, stats)
            meeting.tabs.append(tab)
            tabs.append(tab)
    tasks = []
    opened_at = time.monotonic()
    for batch in range(0, len(tabs), 100):
        chunk = tabs[batch:batch + 100]
        tasks += [asyncio.create_task(t.run()) for t in chunk]
        await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in chunk)), timeout=120)
    open_seconds = time.monotonic() - opened_at
    await asyncio.sleep(2)
    open_errors = dict(stats.errors)
    stats.errors.clear()  # what happens under load is counted apart

    probe = ServerProbe(server_pids)
    cpu0, rss0, wall0, client0 = cpu_seconds(server_processes(server_pids)), probe.rss_mb(), time.monotonic(), \
        resource.getrusage(resource.RUSAGE_SELF)
    until = wall0 + args.minutes * 60
    pages = [(m.port, sessions[v].cookie, info["id"]) for m, info in zip(meetings, plan) for v in info["viewers"]]
    load = [recorder(m.port, m, sessions[info["recorder"]], tokens[m.id], stats, until,
                     (args.gap_min, args.gap_max)) for m, info in zip(meetings, plan)]
    await asyncio.gather(*load, page_loads(pages, stats, until), probe.run(until))
    wall = time.monotonic() - wall0
    cpu = cpu_seconds(server_processes(server_pids)) - cpu0
    client1 = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)

    # Let the last points arrive (a lost publish would come with the watchdog's next rounds).
    settle = time.monotonic() + 15
    while time.monotonic() < settle and any(
            len(t.arrived) < len(m.sent) for m in meetings for t in m.tabs):
        await asyncio.sleep(0.2)
    for tab in tabs:
        tab.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"stats": stats, "tabs": tabs, "wall": wall, "cpu": cpu, "rss_start": rss0, "rss_peak": probe.rss_peak,
            "rss_end": probe.rss_mb(), "rss_before_streams": rss_before_streams, "open_seconds": open_seconds, "client_cpu": client_cpu,
            "reconnects": sum(max(0, t.connects - 1) for t in tabs), "open_errors": open_errors}


def login_all(port: int, usernames: list[str]) -> dict[str, Session]:
    # One at a time. Concurrent logins on SQLite stall a gevent worker: POST /login holds SQLite's write lock
    # (BEGIN IMMEDIATE) while it talks to Redis (the login throttle); that lets another greenlet of the same
    # worker wait for the lock inside SQLite, which blocks the whole process until busy_timeout: "database is
    # locked" after 10 s. Logging in is not what this measures.
    return {u: Session(port, u) for u in usernames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument("--viewers", type=int, default=30, help="attendees per meeting (plus its recorder)")
    parser.add_argument("--gap-min", type=float, default=3.0, help="seconds between a recorder's points, at least")
    parser.add_argument("--gap-max", type=float, default=10.0, help="... and at most")
    parser.add_argument("--setups", default="postgresql+redis,sqlite",
                        help="database[+redis], comma-separated (one run each): sqlite, sqlite+redis, postgresql, "
                             "postgresql+redis")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    parser.add_argument("--hosts", type=int, default=1, help="gunicorn masters sharing the database and Redis")
    parser.add_argument("--host-cpus", default="", help='the cores of each host, e.g. "0;1" (host 1 on core 0, '
                                                         'host 2 on core 1); default: not pinned')
    parser.add_argument("--pool", default="", help="DATABASE_POOL_SIZE+DATABASE_MAX_OVERFLOW per worker, e.g. 15+5")
    args = parser.parse_args()
    if args.hosts > 1 and not all(k.endswith("+redis") for k in args.setups.split(",")):
        raise SystemExit("--hosts: several hosts share live updates through Redis: use +redis set-ups only")
    setups = [k.strip() for k in args.setups.split(",") if k.strip()]
    if not setups or any(k.split("+")[0] not in ("sqlite", "postgresql") or k.count("+") > 1
                         or ("+" in k and not k.endswith("+redis")) for k in setups):
        raise SystemExit("--setups: database[+redis], e.g. postgresql+redis,sqlite")

    nofile = raise_nofile()
    redis = redis_url()
    if not redis and any(k.endswith("+redis") for k in setups):
        raise SystemExit("a +redis set-up needs Redis (REDIS_URL, default redis://127.0.0.1:6379/14)")
    runs = [run_one(setup, redis if setup.endswith("+redis") else None, args) for setup in setups]
    report(args, runs, nofile)


def run_one(setup: str, redis: str | None, args) -> dict:
    """Seed, serve, load for N minutes, count; the figures of one database."""
    kind = setup.split("+")[0]
    work = Path(tempfile.mkdtemp(prefix="minutes-load-"))
    url, schema = scratch_database(kind, work, "bench_load")
    servers = []
    try:
        t = time.monotonic()
        plan = seed(url, args.meetings, args.viewers)
        print(f"{kind}: seeded {len(plan)} meetings in {time.monotonic() - t:.1f}s", flush=True)
        ports = [free_port() for _ in range(args.hosts)]
        cpus = [{int(c) for c in part.split(",")} for part in args.host_cpus.split(";")] if args.host_cpus else []
        env = {"ROOM_REDIS_PREFIX": f"minutes:bench:{ports[0]}"}  # one room channel for every host
        if args.pool:
            env["DATABASE_POOL_SIZE"], env["DATABASE_MAX_OVERFLOW"] = args.pool.split("+")
        for i, port in enumerate(ports):
            servers.append(start_gunicorn(url, port, redis, work / f"gunicorn-{i + 1}.log",
                                          cpus=cpus[i % len(cpus)] if cpus else None, env=env))
        usernames = sorted({u for info in plan for u in [info["recorder"], *info["viewers"]]})
        sessions = login_all(ports[0], usernames)  # a session signed on one host is good on every host
        tokens = {}
        for info in plan:
            _, html = sessions[info["recorder"]].request("GET", f"/meetings/{info['id']}/room")
            tokens[info["id"]] = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
        meetings = [Meeting(info, ports[i % len(ports)]) for i, info in enumerate(plan)]
        print(f"{kind}: {len(sessions)} accounts logged in; opening {sum(1 + len(i['viewers']) for i in plan)} "
              "streams", flush=True)
        load_before = os.getloadavg()
        result = asyncio.run(run_load([s.pid for s in servers], meetings, sessions, plan, tokens, args))
        load_after = os.getloadavg()
    finally:
        for server in servers:
            stop(server)
    truth = points_in_database(url)
    drop_schema(schema)
    stats = result["stats"]
    result.update(
        kind=setup + (f" ×{args.hosts} hosts" if args.hosts > 1 else "") + (
            f" (cores {args.host_cpus})" if args.host_cpus else ""),
        workers=(2 if redis else 1) * args.hosts, meetings=meetings, load_before=load_before, load_after=load_after,
        lost=sum(len(truth.get(m.id, set()) - t.points) for m in meetings for t in m.tabs),
        unknown=sum(len(t.points - truth.get(m.id, set())) for m in meetings for t in m.tabs),
        duplicates=sum(t.duplicates for t in result["tabs"]), saved=sum(len(v) for v in truth.values()),
        post=summarize(stats.post_ms), page=summarize(stats.page_ms), delivery=summarize(stats.delivery_ms))
    print(f"{result['kind']}: {len(stats.post_ms)} points posted, {result['saved']} saved; POST p95 {result['post'][1]:.0f} ms; "
          f"delivery p95 {result['delivery'][1]:.0f} ms; lost {result['lost']}, duplicates {result['duplicates']}, "
          f"errors {sum(stats.errors.values())}; server CPU {result['cpu']:.0f} s", flush=True)
    return result


def report(args, runs: list[dict], nofile: int) -> None:
    first = runs[0]
    streams, meetings = len(first["tabs"]), len(first["meetings"])
    offered = meetings * 2 / (args.gap_min + args.gap_max)

    def row(label, value):
        return f"| {label} | " + " | ".join(value(r) for r in runs) + " |"

    def ms(key):
        return lambda r: " / ".join(f"{v:,.0f}" for v in r[key]) + " ms"

    def errors(r):
        listed = ", ".join(f"{k}: {v}" for k, v in sorted(r["stats"].errors.items()))
        return f"{sum(r['stats'].errors.values())}" + (f" ({listed})" if listed else "")

    loads = "; ".join(f"{r['kind']}: {r['load_before'][0]:.1f} before the run, {r['load_after'][0]:.1f} after"
                      for r in runs)
    lines = [
        SECTION,
        "",
        f"`bench/load.py --minutes {args.minutes:g} --meetings {meetings} --viewers {args.viewers} --setups "
        f"{args.setups}`, run {datetime.now():%Y-%m-%d %H:%M} on {os.cpu_count()} CPU cores ({platform.machine()}, "
        f"Python {platform.python_version()}); 1-minute load average {loads}. The load generator runs on the same "
        "box and takes its share of the two cores: the CPU seconds per point are the figure that does not depend "
        "on it.",
        "",
        f"Server: `gunicorn -c gunicorn.conf.py wsgi:app` as `make serve` runs it: with `+redis` 2 gevent workers "
        f"and Redis pub/sub between them, otherwise its default of 1 gevent worker with the in-process broker. "
        f"{meetings} meetings at once, each with its recorder and {args.viewers} attendees with the "
        f"room open: {streams} SSE streams (one asyncio process, raw sockets, RLIMIT_NOFILE {nofile}). Every "
        f"recorder posts a point through the room's form endpoint, waits for the answer, then waits "
        f"{args.gap_min:g}–{args.gap_max:g} s (uniform at random): {offered:.1f} points/s offered if answers were "
        "instant; an attendee loads a full room page about once a second. Latencies are measured from sending the "
        "request (on a connected socket); delivery is from sending the POST to each tab of that meeting receiving "
        "the point. Lost and duplicate are counted per tab against the database at the end (each tab keeps its "
        "points as the page does: `update` appends, `resync` replaces). Targets (issue 21): 0 lost, 0 errors, "
        "delivery p95 ≤ 100 ms, POST p95 ≤ 150 ms." + (
            f" {args.hosts} hosts: {args.hosts} gunicorn masters (each as above) on the same database and Redis, "
            f"meeting i on host i mod {args.hosts}" + (f", host i's processes on the cores of the i-th of "
                                                       f"\"{args.host_cpus}\"" if args.host_cpus else "") + "."
            if args.hosts > 1 else "") + (f" Pool per worker: {args.pool}." if args.pool else ""),
        "",
        "| | " + " | ".join(r["kind"] for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
        row("duration under load", lambda r: f"{r['wall']:.0f} s"),
        row("points posted (saved)", lambda r: f"{len(r['stats'].post_ms):,} ({r['saved']:,}) = "
                                               f"{len(r['stats'].post_ms) / r['wall']:.2f}/s"),
        row("events delivered to tabs", lambda r: f"{r['stats'].frames:,} = {r['stats'].frames / r['wall']:.0f}/s, "
                                                  f"{r['stats'].bytes / r['wall'] / 1024:.0f} KB/s"),
        row("POST latency p50 / p95 / max", ms("post")),
        row("room page latency p50 / p95 / max", ms("page")),
        row("delivery latency p50 / p95 / max", ms("delivery")),
        row("points lost / duplicated / unknown (all tabs)", lambda r: f"{r['lost']} / {r['duplicates']} / "
                                                                       f"{r['unknown']}"),
        row("errors under load", errors),
        row("stream reconnects; errors while opening the streams",
            lambda r: f"{r['reconnects']}; {sum(r['open_errors'].values())} (opened in {r['open_seconds']:.0f} s)"),
        row("server CPU (master + workers)", lambda r: f"{r['cpu']:.0f} s = {r['cpu'] / r['wall'] * 100:.0f}% of "
                                                       "one core"),
        row("server CPU per point posted (with its fan-out, the pages and pings)",
            lambda r: f"{r['cpu'] / max(1, len(r['stats'].post_ms)) * 1000:.0f} ms"),
        row("server memory (RSS, master + workers): streams open / peak",
            lambda r: f"{r['rss_start']:.0f} / {r['rss_peak']:.0f} MB"),
        row("server memory per open stream (RSS with the streams open, less before)",
            lambda r: f"{(r['rss_start'] - r['rss_before_streams']) * 1024 / max(1, len(r['tabs'])):.0f} KB"),
        row("load generator CPU (same box)", lambda r: f"{r['client_cpu']:.1f} s"),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_results(text, SECTION)
    if any(r["lost"] or r["duplicates"] or r["unknown"] for r in runs):
        raise SystemExit("points were lost or duplicated: " + "; ".join(
            f"{r['kind']}: lost {r['lost']}, duplicated {r['duplicates']}, unknown {r['unknown']}" for r in runs))


if __name__ == "__main__":
    main()
