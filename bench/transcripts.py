"""Transcripts: precision and recall of the rule-based suggestions, and the time to import a 2-hour transcript.

    .venv/bin/python bench/transcripts.py [--lines 1500] [--runs 3] [--db sqlite|postgresql]

1. Scores the suggestions against the annotated passages in tests/transcripts/fixtures/ (passages.txt, used
   to develop the rules, and heldout.txt, written afterwards and not used to tune them), as
   tests/transcripts/test_evaluation.py does, and prints precision and recall per set and per kind.
2. Generates a 2-hour meeting transcript in the Feishu 妙记 text format (`--lines` turns, ~5 s apart, eight
   speakers of five departments, four agenda items, the evaluation passages' sentences recombined) and imports
   it through the real service (`minutes.transcripts.service.import_transcript`) into a started meeting on a
   scratch database (SQLite, or a scratch schema on the PostgreSQL of TEST_POSTGRES_URL, dropped after): reading, speaker matching, agenda assignment, suggestions, rows written and
   committed. Baseline measured in the same run: reading and splitting the same bytes alone (`read_transcript`).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PEOPLE = [("王主持", "客服部"), ("李记录", "客服部"), ("张伟", "技术部"), ("陈静", "技术部"), ("刘洋", "产品部"),
          ("王磊", "产品部"), ("赵敏", "法务部"), ("周强", "财务部")]
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
AGENDA = ["客户投诉升级后的处理时效", "投诉提报模板优化", "截图脱敏方案", "三季度预算"]


def generate(lines: int, seed: int = 7) -> bytes:
    """A Feishu-style export of `lines` turns: talk, with now and then a decision, an action, a dispute."""
    from tests.transcripts.evaluation import load_passages

    rng = random.Random(seed)
    said = []
    for passage in load_passages():
        for row in passage.transcript.splitlines():
            if row and not row[0].isdigit() and not row.startswith("[") and "：" not in row[:8] and not row.endswith(("0", "5")):
                said.append(row)
            elif "：" in row[:20]:
                said.append(row.split("：", 1)[1])
    said = [s for s in said if len(s) > 6]
    filler = ["这个我补充一下，数据上看上个月确实比较高。", "嗯，对，我们这边也遇到过类似的情况。",
              "我觉得还是要先看一下客户的反馈再说。", "这个问题其实之前讨论过一次。", "好的，我记一下。"]
    out, seconds, item = [], 5, 0
    per_item = lines // len(AGENDA)
    for i in range(lines):
        name, dept = rng.choice(PEOPLE)
        if i and i % per_item == 0 and item + 1 < len(AGENDA):
            item += 1
            text = f"好，下一个议题，{AGENDA[item]}。"
        else:
            text = rng.choice(said) if rng.random() < 0.3 else rng.choice(filler)
        stamp = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        out.append(f"{name}({dept}) {stamp}\n{text}\n")
        seconds += rng.randint(3, 7)
    return "\n".join(out).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    schema = None
    if args.db == "postgresql":
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        os.environ["DATABASE_URL"] = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    else:
        scratch = tempfile.mkdtemp(prefix="bench-transcripts-")
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.db"
    try:
        run(args)
    finally:
        if schema:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(args) -> None:
    from minutes import create_app
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service as meetings
    from minutes.meetings.service import MeetingInput
    from minutes.people.service import create_user
    from minutes.room import service as room
    from minutes.transcripts import parse, service
    from tests.transcripts.evaluation import PASSAGES, evaluate, load_passages

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"], "WTF_CSRF_ENABLED": False,
                      "EMBEDDED_TICK": False})
    with app.app_context():
        db.create_all()
        print("## Suggestions: precision and recall")
        for label, path in (("development (passages.txt)", PASSAGES), ("held out (heldout.txt)", PASSAGES.parent / "heldout.txt")):
            passages = load_passages(path)
            score = evaluate(passages)
            print(f"{label}: {len(passages)} passages, {score.expected} expected entries, {score.suggested} suggestions; "
                  f"precision {score.precision:.2f} ({score.right}/{score.suggested}), "
                  f"recall {score.recall:.2f} ({score.found}/{score.expected})")
            for kind, (suggested, right, expected, found) in sorted(score.by_kind.items()):
                p = f"{right / suggested:.2f}" if suggested else "—"
                r = f"{found / expected:.2f}" if expected else "—"
                print(f"    {kind:<10} precision {p} ({right}/{suggested})  recall {r} ({found}/{expected})")

        timefmt.freeze(datetime(2026, 6, 15, 13, 55, tzinfo=timefmt.LOCAL_TZ))
        users = [create_user(f"u{i}", name, dept, "bench-password-1", email=None) for i, (name, dept) in enumerate(PEOPLE)]
        start = datetime(2026, 6, 15, 14, 0, tzinfo=timefmt.LOCAL_TZ)

        def started_meeting():
            """A fresh started meeting per run: each import indexes its meeting's lines, not the previous runs'."""
            meeting = meetings.create_meeting(users[0], MeetingInput(
                topic="季度跨部门协调会", goal="对齐各部门下季度的重点工作", expected_outcome="形成行动方案",
                scenario="problem", starts_at=start, ends_at=start + timedelta(hours=2), location="301", online_link="",
                organizer_department_id=users[0].department_id, confidential=False))
            meetings.invite(users[0], meeting, [users[1].id], "recorder")
            meetings.invite(users[0], meeting, [u.id for u in users[2:]], "participant")
            for title in AGENDA:
                meetings.add_agenda_item(users[0], meeting, title, 30)
            db.session.commit()
            room.start_meeting(users[1], meeting)
            db.session.commit()
            return meeting

        data = generate(args.lines)
        print(f"\n## Import of a 2-hour transcript ({args.lines} turns, {len(data) / 1024:.0f} KB, {args.db})")
        parse_times, import_times = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            parse.read_transcript("2h.txt", data)
            parse_times.append(time.perf_counter() - t0)
            meeting = started_meeting()
            with app.test_request_context():
                t0 = time.perf_counter()
                transcript = service.import_transcript(users[1], meeting, "2h.txt", data)
                db.session.commit()
                import_times.append(time.perf_counter() - t0)
                count = len(transcript.suggestions)
        best_parse, best_import = min(parse_times), min(import_times)
        print(f"reading alone (baseline): {best_parse * 1000:.0f} ms")
        print(f"full import (read, match, suggest, {args.lines} lines + {count} suggestions written and indexed for search, committed): "
              f"{best_import * 1000:.0f} ms = {best_import / best_parse:.1f}× the baseline (best of {args.runs})")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
