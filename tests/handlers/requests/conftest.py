"""The community every request test starts from (tests/factories/requests.py)."""
from __future__ import annotations

import pytest

from tests.factories.requests import build_world


@pytest.fixture
def world(app, clock):
    return build_world()
