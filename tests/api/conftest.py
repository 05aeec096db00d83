"""Every answer seen in the API suite is checked against /api/v1/openapi.json (tests/support/contract.py)."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.contract import client_class, record_path

_DOCUMENT: dict = {}


@pytest.fixture(autouse=True)
def contract_client(app):
    """Install the checking client on the test's app: ``client`` and ``app.test_client()`` both get it."""
    if not _DOCUMENT:  # the document is built at import time and the same for every app
        _DOCUMENT.update(FlaskClient(app, app.response_class, use_cookies=True).get("/api/v1/openapi.json").get_json())
    app.test_client_class = client_class(_DOCUMENT, record_path())
    yield
    app.test_client_class = None
