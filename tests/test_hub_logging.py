"""Hub-side messages of the suite go through the hub's own logger (`app.log`): its handlers,
format and level, as its spawners' do. A real hub's log lines are read by the hub-tier tests
(e.g. "withheld from users" in test_profiles_callable_hub.py); here the routing itself."""

from __future__ import annotations

import logging

import pytest

from hub_extensions.wiring import log_through_hub

pytestmark = pytest.mark.unit


def test_hub_side_messages_go_through_the_hubs_logger_at_its_level():
    hub_log = logging.getLogger("test-hub-log")
    hub_log.propagate = False
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(f"{record.levelname} {record.name} {record.getMessage()}")

    hub_log.addHandler(Keep())
    hub_log.setLevel(logging.INFO)
    ours = logging.getLogger("hub_extensions")
    saved = (ours.parent, ours.level, ours.propagate)
    try:
        log_through_hub(hub_log)
        log_through_hub(hub_log)  # a second call changes nothing: no message is doubled
        logging.getLogger("hub_extensions.profiles").warning("withheld %s", "gpu")
        logging.getLogger("hub_extensions.usage").debug("not at INFO")
        hub_log.setLevel(logging.DEBUG)  # the hub's level is read at each record
        logging.getLogger("hub_extensions.usage").debug("at DEBUG")
    finally:
        ours.parent, ours.level, ours.propagate = saved
    assert seen == [
        "WARNING hub_extensions.profiles withheld gpu",
        "DEBUG hub_extensions.usage at DEBUG",
    ]
