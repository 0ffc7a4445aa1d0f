"""How passwords are stored: production's cost is pinned here, since the suite hashes at a lower one."""
from minutes.config import Config
from minutes.people import service as people
from tests.conftest import PASSWORD


def test_production_stores_passwords_with_scrypt_at_werkzeugs_full_cost(app, make_user):
    assert Config.PASSWORD_HASH_METHOD == "scrypt:32768:8:1"
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD  # the suite lowers it (tests/conftest.py)
    user = make_user("mima")
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert people.check_password(user.password_hash, PASSWORD)
    assert not people.check_password(user.password_hash, PASSWORD + "x")


def test_an_unknown_account_is_checked_against_a_hash_of_the_configured_cost(app):
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD
    assert people.check_password(None, PASSWORD) is False
    assert any(h.startswith("scrypt:32768:8:1$") for h in people._DUMMY_HASHES.values())
