"""疑似诉求 in a real browser: a resident's unclear report in the simulated group gets no answer from the
bot, waits in the console inbox, and the person on duty makes it a request with a public reply."""
from __future__ import annotations

import uuid

import pytest

from tests.browser.test_screens import demo_login, say_in_group

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_possible_request_is_converted_from_the_inbox(page, shoot):
    words = f"三号楼那边黑灯瞎火的 {uuid.uuid4().hex[:4]}"
    say_in_group(page, words, resident="demo-fuqiang-resident-3")
    assert "机器人没有发言" in page.locator("#group-log").inner_text()
    demo_login(page)
    card = page.locator("article[data-possible]", has_text=words)
    card.locator("select").select_option("repair")
    card.locator("textarea").fill("已请电工今晚查看楼道灯。")
    shoot(page, "inbox-possible")
    card.get_by_role("button", name="转为诉求").click()
    page.wait_for_url("**/console/inbox*")
    assert page.get_by_role("status").inner_text().startswith("已转为诉求 ")
    assert page.locator("article[data-possible]", has_text=words).count() == 0
    page.goto("/try")
    assert "已请电工今晚查看楼道灯" in page.locator("#group-log").inner_text()
