"""Score the rule-based suggestions against the passages a careful recorder annotated (fixtures/passages.txt).

Used by tests/transcripts/test_evaluation.py (with a floor) and bench/transcripts.py (prints the figures).
A suggestion counts as right when it matches an expected entry not matched yet: the same kind, and for an
action the same owner and the same due date, for a dispute the same two departments, for a decision or a
consensus every listed word in its text. Precision = right suggestions / suggestions; recall = matched
expected entries / expected entries. Needs an app context (the working-day calendar comes from the database).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from minutes.calendar.service import work_calendar
from minutes.transcripts import parse, suggest
from minutes.transcripts.service import due_reader

PASSAGES = Path(__file__).parent / "fixtures" / "passages.txt"
MEETING_DAY = date(2026, 6, 15)


@dataclass
class Passage:
    key: str
    title: str
    people: list[suggest.Person]
    agenda: list[str]
    transcript: str
    expected: list[list[str]]


@dataclass
class Score:
    suggested: int = 0
    right: int = 0
    expected: int = 0
    found: int = 0
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    by_kind: dict = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.right / self.suggested if self.suggested else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0


def load_passages(path: Path = PASSAGES) -> list[Passage]:
    passages = []
    text = "\n".join(line for line in path.read_text("utf-8").splitlines() if not line.startswith("#"))
    for block in re.split(r"^=== ", text, flags=re.M)[1:]:
        head, rest = block.split("\n", 1)
        key, _, title = head.partition(" ")
        meta, _, rest = rest.partition("--- transcript\n")
        transcript, _, expected = rest.partition("--- expected\n")
        fields = dict(line.split(": ", 1) for line in meta.strip().splitlines())
        departments: dict[str, int] = {}
        people = []
        for i, entry in enumerate(fields["people"].split(", "), start=1):
            name, dept = entry.strip().split("/")
            people.append(suggest.Person(i, name, departments.setdefault(dept, len(departments) + 1), dept))
        passages.append(Passage(key, title, people, [t.strip() for t in fields["agenda"].split("|")],
                                transcript.strip() + "\n",
                                [[c.strip() for c in line.split("|")] for line in expected.strip().splitlines()
                                 if line.strip()]))
    return passages


def suggestions_for(passage: Passage, read_due) -> list[suggest.Proposal]:
    _, turns = parse.read_transcript(f"{passage.key}.txt", passage.transcript.encode("utf-8"))
    said = [suggest.Said(i, t.speaker, suggest.match_person(t.speaker, passage.people), t.text)
            for i, t in enumerate(turns)]
    suggest.assign_agenda(said, list(enumerate(passage.agenda, start=1)))
    return suggest.propose(said, passage.people, read_due)


def _matches(proposal: suggest.Proposal, expected: list[str], passage: Passage) -> bool:
    kind = expected[0]
    if proposal.kind != kind:
        return False
    if kind == "action":
        return (proposal.owner is not None and proposal.owner.name == expected[1]
                and proposal.due_date is not None and proposal.due_date.isoformat() == expected[2])
    if kind == "dispute":
        names = {p.department_id: p.department_name for p in passage.people}
        return {names.get(i) for i in proposal.party_ids} == set(expected[1:])
    return all(word in proposal.text for word in expected[1].split())


def evaluate(passages: list[Passage] | None = None) -> Score:
    passages = passages if passages is not None else load_passages()
    read_due = due_reader(work_calendar(), MEETING_DAY)
    score = Score()
    for passage in passages:
        proposals = suggestions_for(passage, read_due)
        open_expected = list(passage.expected)
        score.suggested += len(proposals)
        score.expected += len(passage.expected)
        for proposal in proposals:
            kind = score.by_kind.setdefault(proposal.kind, [0, 0, 0, 0])  # suggested, right, expected, found
            kind[0] += 1
            hit = next((e for e in open_expected if _matches(proposal, e, passage)), None)
            if hit:
                open_expected.remove(hit)
                score.right += 1
                kind[1] += 1
            else:
                owner = proposal.owner.name if proposal.owner else "-"
                score.wrong.append(f"{passage.key} {proposal.kind} [{owner} {proposal.due_date}] {proposal.text}")
        for e in passage.expected:
            kind = score.by_kind.setdefault(e[0], [0, 0, 0, 0])
            kind[2] += 1
            if e not in open_expected:
                kind[3] += 1
        score.found += len(passage.expected) - len(open_expected)
        score.misses += [f"{passage.key} {' | '.join(e)}" for e in open_expected]
    return score
