"""Links that leave the app (e-mails, cards, feeds, robots) come from the URL map on BASE_URL, never by hand."""
import re
from pathlib import Path

import pytest

from minutes.core.links import external_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def base_url(app):
    before = app.config["BASE_URL"]
    yield lambda value: app.config.__setitem__("BASE_URL", value)
    app.config["BASE_URL"] = before


def test_links_follow_base_url_with_its_path_and_scheme(app, base_url):
    base_url("https://intra.example.com/minutes/")
    assert external_url("records.version", version_id=3) == "https://intra.example.com/minutes/minutes/versions/3"
    assert external_url("meetings.dashboard") == "https://intra.example.com/minutes/"
    base_url("http://10.0.0.5:8000")
    assert external_url("actions.show", action_id=7) == "http://10.0.0.5:8000/actions/7"


def test_values_the_rule_does_not_take_become_the_query(app, base_url):
    base_url("https://m.example.com")
    assert external_url("records.diff", meeting_id=4, a=1, b=2) == "https://m.example.com/meetings/4/minutes/diff?a=1&b=2"


def test_links_are_built_outside_a_request_too(_app, base_url):
    base_url("https://m.example.com")
    with _app.app_context():  # the tick and the delivery worker have no request
        assert external_url("meetings.show", meeting_id=12) == "https://m.example.com/meetings/12"


def test_no_module_builds_a_link_by_hand():
    """A path of our own after a base URL in an f-string is a link built by hand."""
    by_hand = re.compile(r"""f["'][^"']*\{[^}]*(base|BASE_URL)[^}]*\}/""")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "minutes").rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_hand.search(line)]
    assert found == []
