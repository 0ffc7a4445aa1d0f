"""Schemathesis fuzzes every operation in /openapi.json: no 5xx, every response matches the schema."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from minutes.api import service as tokens
from minutes.extensions import db
from minutes.meetings import service as meetings


@pytest.fixture
def api_schema(app, make_user, make_meeting):
    user = make_user("fuzzer", "模糊测试", dept="技术部")
    make_user("other", dept="产品部")
    meeting = make_meeting(user)
    meetings.add_agenda_item(user, meeting, "议题一", 20)
    _token, plaintext = tokens.create_token(user, "fuzz")
    db.session.commit()
    app.config["FUZZ_TOKEN"] = plaintext
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi(case, app):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
