"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a real
`linli serve` — embedded SQLite and Redis, the RQ worker with its scheduler, cron and gunicorn —
on a free loopback port, with the demo community and the demo's fast clock.

Run with `make browser-test` (or `pytest -m browser tests/browser`); `--screenshots DIR` saves a
screenshot of each page there (docs/screenshots for the README). Never `playwright install`:
nothing is downloaded, the browser is the system's.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# One-hour SLA / 120: the clock lasts 30 s, the warning comes 7 s before the deadline.
CLOCK_FACTOR = "120"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _linli(env: dict, *args: str, timeout: int = 120) -> str:
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Server:
    def __init__(self, url: str, env: dict):
        self.url, self.env = url, env

    def linli(self, *args: str) -> str:
        return _linli(self.env, *args)

    def python(self, code: str) -> str:
        """Run Python against the server's own database (a fixture the pages cannot create, e.g. bookings)."""
        done = subprocess.run([sys.executable, "-c", code], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def invite_code(self) -> str:
        out = self.linli("web-demo", "--base-url", self.url)
        return re.search(r"invite code ([A-Z0-9]{8})", out).group(1)

    def login_link(self) -> str:
        out = self.linli("web-demo", "--base-url", self.url)
        return re.search(r"(http://\S+/console/login/link\?token=\S+)", out).group(1)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)")
    instance = tmp_path_factory.mktemp("browser-instance")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update(LINLI_ENV="development", LINLI_INSTANCE_PATH=str(instance), LINLI_HOST="127.0.0.1",
               LINLI_PORT=str(port), LINLI_WEB_WORKERS="2", LINLI_DEMO_CLOCK_FACTOR=CLOCK_FACTOR,
               LINLI_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    _linli(env, "init-db")
    _linli(env, "seed-demo")
    log = open(instance / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a loaded CI machine: the worker registers late
    while True:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("linli serve did not come up:\n" + (instance / "serve.log").read_text()[-3000:])
        time.sleep(0.3)
    yield Server(url, env)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(base_url=server.url, accept_downloads=True, locale="zh-CN",
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shoot(request):
    """shoot(page, name): a full-page screenshot into --screenshots (if given)."""
    folder = request.config.getoption("--screenshots")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take
