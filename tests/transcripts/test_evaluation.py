"""Precision and recall of the rule-based suggestions against annotated passages, with floors that can fail.

passages.txt (22 passages) was used to develop the rules; heldout.txt (10 passages) was written afterwards and
not used to tune them, so its figures are the honest estimate. bench/transcripts.py prints both.
"""
from tests.transcripts.evaluation import PASSAGES, evaluate, load_passages


def test_the_evaluation_set_has_at_least_twenty_passages_with_entries_of_every_kind(app):
    passages = load_passages()
    kinds = {e[0] for p in passages for e in p.expected}
    assert len(passages) >= 20 and kinds == {"action", "decision", "dispute", "consensus"}
    assert any(not p.expected for p in passages)  # passages where nothing may be suggested


def test_suggestions_on_the_development_passages_keep_their_precision_and_recall(app):
    score = evaluate()
    assert score.precision >= 0.9, score.wrong
    assert score.recall >= 0.9, score.misses


def test_suggestions_on_the_held_out_passages_stay_above_the_floor(app):
    score = evaluate(load_passages(PASSAGES.parent / "heldout.txt"))
    assert score.precision >= 0.7, score.wrong
    assert score.recall >= 0.45, score.misses


def test_a_scorer_that_suggests_nothing_or_everything_fails_the_floor(app):
    """The floors mean something: an empty or a wrong suggestion list scores below them."""
    from tests.transcripts import evaluation

    passages = load_passages()
    real = evaluation.suggestions_for
    try:
        evaluation.suggestions_for = lambda passage, read_due: []
        assert evaluate(passages).recall == 0
    finally:
        evaluation.suggestions_for = real
