"""Admin test helpers: an admin logged in on the main client, more clients for other people."""
import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def admin(login_as, make_user):
    """An administrator in 人力资源部, logged in on `client`."""
    return login_as(make_user("admin", "系统管理员", dept="人力资源部", admin=True))


@pytest.fixture
def client_for(app):
    """Another browser: client_for(user) returns a fresh test client logged in as `user`."""

    def make(user, password=PASSWORD):
        other = app.test_client()
        response = other.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return other

    return make
