"""Web page tests: the demo community seeded, a test client that logs in and sends CSRF tokens."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.handlers.demo import seed_demo
from app.handlers.org.staff import new_invite

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response) -> str:
    found = TOKEN.search(response.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """The Flask test client with a session: fetches a page's CSRF token before each POST."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, *, token_from: str | None = None, **kwargs):
        token = csrf_of(self.client.get(token_from or "/console/login"))
        return self.client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)

    def login(self, staff) -> None:
        invite = new_invite(staff)
        db.session.commit()
        response = self.post("/console/login", {"code": invite.code})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture
def demo(app, clock):
    return seed_demo()


@pytest.fixture
def browser(client):
    return Browser(client)
