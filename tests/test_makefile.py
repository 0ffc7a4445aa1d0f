"""What `make run` would do (a dry run of the real Makefile): where it listens, what it prints."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> str:
    env = {"PATH": "/usr/bin:/bin"}  # neither HOST nor PORT from the caller's environment
    result = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=True)
    return result.stdout


def test_make_run_listens_on_the_port_and_host_given():
    out = dry_run("run", "PORT=5311", "HOST=0.0.0.0")
    assert "HOST=0.0.0.0 PORT=5311 GUNICORN_WORKERS=1 .venv/bin/gunicorn -c gunicorn.conf.py --reload wsgi:app" in out
    assert "PORT=5000" not in out


def test_make_run_listens_on_127_0_0_1_port_5000_by_default_with_the_local_mailbox():
    out = dry_run("run")
    # the production server (one gevent worker: the room is as live as under `make serve`), reloading on changes
    assert "HOST=127.0.0.1 PORT=5000 GUNICORN_WORKERS=1 .venv/bin/gunicorn -c gunicorn.conf.py --reload wsgi:app" in out
    # the demo's agendas too go to the local mailbox, not to a mail server that is not there
    assert "MAIL_DEV_MAILBOX=${MAIL_DEV_MAILBOX:-1} .venv/bin/flask --app wsgi minutes demo --if-empty" in out
    assert "MAIL_DEV_MAILBOX=${MAIL_DEV_MAILBOX:-1} BASE_URL=" in out


def test_catalog_compile_prints_no_statistics_that_look_like_an_error():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    compiles = [line for line in makefile.splitlines() if "$(PYBABEL) compile" in line]
    assert compiles and not any("--statistics" in line for line in compiles)
