"""API fixtures: a user with a token, and a JSON client that sends it."""
import pytest

from minutes.api import service as tokens
from minutes.extensions import db


class ApiClient:
    """Call /api/v1 with a bearer token; returns (status, json)."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def call(self, method, path, json=None, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = self.client.open("/api/v1" + path, method=method, json=json, headers=headers, **kwargs)
        assert response.is_json, f"{method} {path} gave non-JSON {response.status_code}: {response.get_data(as_text=True)[:300]}"
        return response.status_code, response.get_json()

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json if json is not None else {}, **kw)

    def patch(self, path, json=None, **kw):
        return self.call("PATCH", path, json=json if json is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def token_for(app):
    def issue(user, name="测试"):
        _token, plaintext = tokens.create_token(user, name)
        db.session.commit()
        return plaintext

    return issue


@pytest.fixture
def api_as(client, token_for):
    def make(user):
        return ApiClient(client, token_for(user))

    return make
