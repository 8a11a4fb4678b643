"""The suite's options are built once per process (per config object) and then shared: not per
form render, spawn or signature check. The real option classes, and the mixin's own reads."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Config

from hub_extensions.builds.config import HubExtensionsBuilds
from hub_extensions.options import HubExtensions, load, options_for
from hub_extensions.profiles import spawner_mixin

pytestmark = pytest.mark.unit


def test_one_object_per_section_and_config(tmp_path):
    c = Config()
    c.HubExtensionsBuilds.max_builds = 3
    first = options_for(HubExtensionsBuilds, c)
    assert first.max_builds == 3
    assert options_for(HubExtensionsBuilds, c) is first
    assert load(c) is options_for(HubExtensions, c)
    other = Config()  # another hub's (a test's) config gets its own objects
    assert options_for(HubExtensionsBuilds, other) is not first
    assert options_for(HubExtensionsBuilds, other).max_builds == 2


def test_a_bad_value_is_refused_every_time_and_never_cached():
    c = Config()
    c.HubExtensionsBuilds.max_builds = 0
    for _ in range(2):
        with pytest.raises(TraitError, match=r"HubExtensionsBuilds\.max_builds"):
            options_for(HubExtensionsBuilds, c)


def test_the_signing_key_file_is_read_once_per_options_object(tmp_path, monkeypatch):
    key_file = tmp_path / "signing.key"
    c = Config()
    c.HubExtensionsBuilds.signing_key_file = str(key_file)
    builds = options_for(HubExtensionsBuilds, c)
    reads = []
    real = spawner_mixin.load_key
    monkeypatch.setattr(spawner_mixin, "load_key", lambda b: reads.append(b) or real(b))
    spawner_mixin._signing_key.cache_clear()
    key = spawner_mixin._signing_key(builds)
    assert spawner_mixin._signing_key(options_for(HubExtensionsBuilds, c)) == key
    assert reads == [builds]
    assert key_file.read_text().strip().encode() == key
