"""Schemathesis fuzzes every operation in /openapi.json with all of its checks (`--checks all`).

No 5xx; every answer matches the document; a request the document forbids is refused (negative data);
an undeclared method gets 405 with `Allow`; and a request the document allows is accepted — or refused
with 422 only for a rule no JSON Schema can state (`BUSINESS_RULE_FIELDS`): a department or person named
by someone who does not exist, an end before the start, a vague deadline. A 422 naming any other field
means the document is missing a rule the server enforces (an empty name, a length, a range).
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from minutes.api import service as tokens
from minutes.extensions import db
from minutes.meetings import service as meetings

#: Fields a schema-valid request may still be refused for (422).
BUSINESS_RULE_FIELDS = {
    # names that must exist (departments, people)
    "organizer_department", "department", "departments", "owner", "owner_department", "parties", "speaker", "host",
    "recorder", "participants", "username", "recipients", "extra", "support_department",
    # times: an end after its start, a date the calendar or the search range holds, a deadline that says when
    "starts_at", "ends_at", "arrived_at", "due", "new_due", "from", "to",
    # one field required by another's value or by the meeting's state (a reason for an absence, a late
    # agenda or finalizing early; a comment with a change request; a location when a change empties it)
    "reason", "comment", "item", "note", "location", "status", "version",
    # vague wording in a decision or action (the fields list the words and how to say them precisely)
    "text", "vague_terms", "suggestions",
}

CONFIG = schemathesis.Config.from_dict({
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422",
                                                                  "429", "5xx"]}},
})


def refusals_name_only_business_rules(ctx, response, case):
    """A schema-valid request refused with 422 names only fields whose rules the schema cannot state."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    unstated = set(response.json()["error"]["fields"]) - BUSINESS_RULE_FIELDS
    assert not unstated, f"schema-valid request refused for {sorted(unstated)}: state the rule in the schema"
    return None


@pytest.fixture
def api_schema(app, make_user, make_meeting):
    user = make_user("fuzzer", "模糊测试", dept="技术部")
    make_user("other", dept="产品部")
    meeting = make_meeting(user)
    meetings.add_agenda_item(user, meeting, "议题一", 20)
    _token, plaintext = tokens.create_token(user, "fuzz")
    db.session.commit()
    app.config["FUZZ_TOKEN"] = plaintext
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi(case, app):
    case.call_and_validate(headers={"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"},
                           additional_checks=[refusals_name_only_business_rules])
