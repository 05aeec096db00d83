"""What the tests of reports answered at once compare against (tests/support/deferred_reports.py has the fixtures)."""
from __future__ import annotations

import re

from tests.channels.conftest import CHANNEL_SETTINGS

REPORT = "3栋2单元楼道灯坏了，晚上很黑"
CODE = re.compile(r"编号(R\d{8}-\d{4})")
# For the module's own ``app_overrides`` fixture (a directory's conftest would win over a plugin's).
DEFERRED_SETTINGS = {**CHANNEL_SETTINGS, "INBOUND_DEFER_REPORTS": True}
