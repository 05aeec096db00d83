"""Accessibility of every page, checked in the browser by axe-core (WCAG 2 A and AA: contrast, labels,
names of buttons and links, landmarks, ARIA), plus a visible focus ring for keyboard users.

axe-core comes from the npm registry with the other browser assets (package.json, devDependencies;
`make install` runs `npm ci`) and is injected into the page by the test only: the app never serves it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_screens import demo_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PUBLIC = ["/", "/board", "/map", "/try", "/console/login"]
STAFF = ["/console/inbox", "/console/requests", "/console/desk", "/console/events", "/console/roster",
         "/console/sent", "/console/resources", "/console/needs", "/console/projects", "/console/topics",
         "/console/suggestions", "/console/stations", "/dashboard"]
# Pages reached from a list: the first link of the list is opened.
DETAILS = {"/console/requests": "tbody a", "/console/needs": "[data-need] a", "/console/projects": "[data-project] a",
           "/console/topics": "[data-topic] a", "/console/suggestions": "[data-suggestion] a",
           "/console/stations": "[data-station-row] a"}


def violations(page) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run make install (npm ci)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]}});
        return result.violations.map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
    }""")
    return found


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_pass_axe(page, path):
    page.goto(path)
    assert violations(page) == []


@pytest.mark.parametrize("path", STAFF)
def test_console_pages_pass_axe(page, path):
    demo_login(page)
    page.goto(path)
    assert violations(page) == []
    if path in DETAILS and page.locator(DETAILS[path]).count():
        page.locator(DETAILS[path]).first.click()
        page.wait_for_load_state()
        for summary in page.locator("details.action > summary").all():
            summary.click()  # the action forms too
        assert violations(page) == [], page.url


def test_the_focus_ring_is_visible_on_links_buttons_and_fields(page):
    demo_login(page)
    page.goto("/console/needs")
    page.locator("#form-need summary").click()
    for selector in ["header.top a", "#n-title", "#n-kind", "#form-need button[type=submit]", ".subnav a"]:
        page.locator(selector).first.focus()
        style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert style not in ("none", ""), selector
