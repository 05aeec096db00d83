from __future__ import annotations

from datetime import timedelta

import pytest

from tests.handlers.sla.support import cover_day, make_world


@pytest.fixture
def world(app, clock):
    w = make_world()
    cover_day(w, clock() - timedelta(hours=2))
    return w
