"""gunicorn settings for `make serve`; everything can be overridden by environment.

Live updates reach every open tab only when every worker shares one broker: with REDIS_URL the
workers (and hosts) share rooms through Redis; without it each worker's broker reaches only its own
streams. So the default is one worker without REDIS_URL (one gevent worker holds thousands of streams,
measured in bench/live_fanout.py), two with it, and several workers without REDIS_URL refuse to start.
"""
import gc
import os


def cross_process_broker(environ) -> str | None:
    """The broker that reaches every worker and host (what minutes.room.broker.make_broker picks), or None."""
    return "redis" if environ.get("REDIS_URL") else None


def default_workers(environ) -> int:
    """GUNICORN_WORKERS when set; otherwise 2 with a cross-process broker, 1 without."""
    asked = environ.get("GUNICORN_WORKERS")
    if asked:
        return int(asked)
    return 2 if cross_process_broker(environ) else 1


def refusal(workers: int, environ) -> str | None:
    """Why `workers` processes must not run with this configuration, or None when they may."""
    if workers <= 1 or cross_process_broker(environ):
        return None
    return (f"refusing to start {workers} workers without REDIS_URL: a live update would reach only the tabs held "
            f"by the worker that saved it (the others would wait for the watchdog). Set REDIS_URL, or run one worker "
            f"(GUNICORN_WORKERS=1; one gevent worker holds thousands of live streams). / "
            f"未配置 REDIS_URL 时不能启动 {workers} 个 worker：实时更新只能到达保存它的那个 worker 所持有的页面。"
            f"请设置 REDIS_URL，或只运行一个 worker（GUNICORN_WORKERS=1）。")


#: The collector's generation-0 threshold in a worker (Python's default is 700): a page render allocates tens of
#: thousands of objects, so at 700 it runs young collections dozens of times per request, and every tenth of
#: those cascades into an older generation (issue 21).
GC_THRESHOLD = (10_000, 10, 10)


def settle_garbage_collector(environ, log=None) -> tuple[int, tuple[int, int, int]] | None:
    """Once the app is loaded: collect, freeze what is left (the app's modules, templates, mappers: long-lived,
    never garbage) out of the collector's sight, and raise the threshold. GUNICORN_GC_FREEZE=0 leaves the
    collector as Python sets it (to measure the difference). Returns (objects frozen, threshold) or None."""
    if environ.get("GUNICORN_GC_FREEZE", "1") == "0":
        return None
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    settled = gc.get_freeze_count(), gc.get_threshold()
    if log is not None:
        log.info("gc: %d objects frozen after loading the app, threshold %s", *settled)
    return settled


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# gevent: one worker holds thousands of idle SSE streams cheaply (measured in bench/live_fanout.py).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
workers = default_workers(os.environ)
# every open room tab is a connection held for as long as the tab is open: a large company's peak (100 meetings ×
# 31 tabs = 3,100, bench/load.py) did not fit the 2,000 of one worker (the tabs past it waited in the backlog)
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "5000"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def nworkers_changed(server, new_value, old_value):
    """Check the worker count however it was set (this file, -w, GUNICORN_CMD_ARGS, SIGTTIN, a reload)."""
    problem = refusal(new_value, os.environ)
    if problem is None:
        return
    server.log.error(problem)
    if old_value is None:  # starting: nothing runs yet
        raise SystemExit(1)
    server.num_workers = old_value  # SIGTTIN or a reload asked for more: keep what runs


def post_worker_init(worker):
    """The worker has loaded the app: settle the garbage collector before the first request."""
    settle_garbage_collector(os.environ, worker.log)


def pre_request(worker, req):
    """Under gevent, give the hub a turn before each request. A request that never waits on a socket (a SQLite
    read: the library is in-process) never yields, so when the same keep-alive connection's next request was
    already buffered, the worker served that one connection again and again while the others waited (wrk, 20
    connections on the room's JSON: p50 7 ms, p99 2–7 s, timeouts after 10 s; tests/room/test_server_fairness.py).
    A timer of 10 µs, not sleep(0): the hub polls the sockets before this greenlet runs again (sleep(0) may resume
    it before the loop cycles: the test still saw 0.27 s waits), and unlike idle() it does not wait for a quiet
    loop, which a busy worker at peak may not have."""
    if worker.__class__.__module__ == "gunicorn.workers.ggevent":
        import gevent  # only a gevent worker has it loaded; the sync and gthread workers never get here

        gevent.sleep(0.00001)
