"""The columns of each kind of sheet: canonical keys, the header labels offices use, aliases."""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.models import (
    Channel,
    GroupKind,
    Role,
)

# Processing order follows the dependencies: a community needs its street, a
# building its community and grid, staff their grid or department, ...
KINDS = ("streets", "communities", "grids", "buildings", "departments", "staff", "groups")

KIND_LABELS = {
    "streets": "街道", "communities": "社区", "grids": "网格", "buildings": "楼栋",
    "departments": "部门", "staff": "工作人员", "groups": "居民群",
}

# Sheet names and CSV file-name stems that mean each kind (compared after normalisation).
KIND_ALIASES = {
    "streets": ("街道", "streets", "street"),
    "communities": ("社区", "communities", "community"),
    "grids": ("网格", "grids", "grid"),
    "buildings": ("楼栋", "楼宇", "buildings", "building"),
    "departments": ("部门", "职能部门", "departments", "department"),
    "staff": ("工作人员", "人员", "staff"),
    "groups": ("居民群", "群", "groups", "group", "resident_groups"),
}

ROLE_ALIASES = {
    "值班": Role.DUTY, "值班人员": Role.DUTY, "duty": Role.DUTY,
    "网格员": Role.GRID_WORKER, "专职网格员": Role.GRID_WORKER, "兼职网格员": Role.GRID_WORKER,
    "grid_worker": Role.GRID_WORKER,
    "网格长": Role.GRID_LEADER, "grid_leader": Role.GRID_LEADER,
    "社区管理员": Role.COMMUNITY_ADMIN, "community_admin": Role.COMMUNITY_ADMIN,
    "街道管理员": Role.STREET_ADMIN, "street_admin": Role.STREET_ADMIN,
    "部门": Role.DEPARTMENT, "部门人员": Role.DEPARTMENT, "department": Role.DEPARTMENT,
}
ROLE_CHOICES_TEXT = "值班、网格员、网格长、社区管理员、街道管理员、部门"

CHANNEL_ALIASES = {
    "group": Channel.GROUP, "群接入": Channel.GROUP, "微信群": Channel.GROUP,
    "wework": Channel.WEWORK, "企业微信": Channel.WEWORK,
    "mp": Channel.MP, "公众号": Channel.MP,
    "miniprogram": Channel.MINIPROGRAM, "小程序": Channel.MINIPROGRAM,
}
GROUP_KIND_ALIASES = {
    "居民群": GroupKind.RESIDENT, "resident": GroupKind.RESIDENT,
    "值班群": GroupKind.DUTY, "duty": GroupKind.DUTY,
}
TRUE_WORDS = {"是", "在岗", "启用", "有效", "1", "true", "yes", "y", "on"}
FALSE_WORDS = {"否", "离岗", "停用", "无效", "0", "false", "no", "n", "off"}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
OFFICE_PHONE = re.compile(r"^[0-9][0-9-]{5,19}$")
URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
ROLE_SPLIT = re.compile(r"[、,，/;；\s]+")
HEADER_NOTE = re.compile(r"[（(][^）)]*[）)]")
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in office spreadsheets


@dataclass(frozen=True)
class Column:
    key: str
    labels: tuple[str, ...]  # the first label is the Chinese header used in docs and samples
    required: bool = False


def _c(key: str, *labels: str, required: bool = False) -> Column:
    return Column(key, labels, required)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "streets": (
        _c("name", "名称", "街道", "街道名称", "name", "street", required=True),
        _c("district", "区", "所属区", "区县", "district"),
    ),
    "communities": (
        _c("street", "街道", "street", required=True),
        _c("name", "名称", "社区", "社区名称", "name", "community", required=True),
        _c("code", "编码", "社区编码", "code"),
        _c("address", "地址", "address"),
        _c("phone", "电话", "办公电话", "联系电话", "phone"),
    ),
    "grids": (
        _c("community", "社区", "community", required=True),
        _c("name", "名称", "网格", "网格名称", "name", "grid", required=True),
        _c("street", "街道", "street"),
    ),
    "buildings": (
        _c("community", "社区", "community", required=True),
        _c("number", "楼号", "楼栋", "楼栋号", "number", "building", required=True),
        _c("grid", "网格", "grid"),
        _c("name", "名称", "楼栋名称", "name"),
        _c("compound", "小区", "compound"),
        _c("units", "单元数", "units"),
        _c("floors", "层数", "floors"),
        _c("street", "街道", "street"),
    ),
    "departments": (
        _c("name", "名称", "部门", "部门名称", "name", "department", required=True),
        _c("street", "街道", "street"),
        _c("phone", "电话", "联系电话", "phone"),
    ),
    "staff": (
        _c("name", "姓名", "name", required=True),
        _c("roles", "角色", "roles", "role", required=True),
        _c("phone", "手机", "手机号", "手机号码", "phone", "mobile"),
        _c("community", "社区", "community"),
        _c("grid", "网格", "grid"),
        _c("department", "部门", "department"),
        _c("street", "街道", "street"),
        _c("title", "职务", "title"),
        _c("wework_userid", "企业微信账号", "企业微信", "企业微信ID", "wework_userid", "wework"),
        _c("active", "在岗", "active"),
    ),
    "groups": (
        _c("community", "社区", "community", required=True),
        _c("name", "群名称", "名称", "name", required=True),
        _c("chat_id", "群ID", "chat_id", required=True),
        _c("channel", "渠道", "channel"),
        _c("kind", "类型", "kind"),
        _c("grid", "网格", "grid"),
        _c("webhook_url", "推送地址", "webhook_url", "webhook"),
        _c("active", "启用", "active"),
        _c("street", "街道", "street"),
    ),
}
