from tests.notify.fixtures import _robot_server, make_action, make_bot, robots, smtp_down  # noqa: F401
