"""`linli import` logic: reading .xlsx/.csv, upserts by natural key, row errors, one transaction."""
from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.handlers.org import importing
from app.handlers.org.importing import ImportFileError, RowError, import_file, kind_from_stem, read_file
from app.models import AuditLog, Building, Community, Department, Grid, ResidentGroup, Staff, Street
from tests import factories

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "docs" / "samples"


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig") -> Path:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Sheets in reverse dependency order on purpose: the import must sort them.
ORG = {
    "居民群": [
        ["社区", "群名称", "渠道", "群ID", "类型", "网格", "推送地址"],
        ["富强新村社区", "第一网格居民群", "企业微信", "wrOgAAA1", "居民群", "第一网格", None],
        ["富强新村社区", "值班群", "group", "duty-1", "值班群", None,
         "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"],
    ],
    "工作人员": [
        ["姓名", "手机", "角色", "社区", "网格", "部门", "街道", "职务", "企业微信账号"],
        ["王秀英", "139 0000 0101", "社区管理员、值班", "富强新村社区", None, None, None, "书记", "wangxy"],
        ["孙婷", "13900000107", "网格员", "富强新村社区", "第一网格", None, None, "专职网格员", None],
        ["张丽", "+86 13900000103", "值班,网格长", "富强新村社区", "第二网格", None, None, None, None],
        ["何亮", 13900000116, "部门", None, None, "城管中队", "红梅街道", None, None],
        ["钱卫东", "13900000115", "street_admin", None, None, None, "红梅街道", None, None],
    ],
    "部门": [["名称", "街道", "电话"], ["城管中队", "红梅街道", "0519-86602110"]],
    "楼栋": [
        ["社区", "楼号", "网格", "单元数", "层数"],
        ["富强新村社区", "1栋", "第一网格", 2, "6层"],
        ["富强新村社区", "三号楼", "第一网格", "3", 6],
        ["富强新村社区", "12幢", "第二网格", None, None],
        ["富强新村社区", 7, None, None, None],
    ],
    "网格": [["社区", "名称"], ["富强新村社区", "第一网格"], ["富强新村社区", "第二网格"]],
    "社区": [["街道", "名称", "编码", "地址", "电话"],
           ["红梅街道", "富强新村社区", "FQXC", "常州市天宁区富强新村", "0519-86601234"]],
    "街道": [["名称", "区"], ["红梅街道", "常州市天宁区"]],
}


@pytest.fixture
def org_file(tmp_path):
    return write_xlsx(tmp_path / "community.xlsx", ORG)


def test_a_workbook_creates_everything_in_dependency_order(app, org_file):
    result = import_file(org_file)
    assert result.ok, [str(p) for p in result.problems]
    assert {k: c.created for k, c in result.counts.items()} == {
        "streets": 1, "communities": 1, "grids": 2, "buildings": 4, "departments": 1, "staff": 5, "groups": 2}
    community = db.session.scalars(select(Community)).one()
    assert (community.code, community.phone) == ("FQXC", "0519-86601234")
    buildings = {b.number: b for b in db.session.scalars(select(Building))}
    assert set(buildings) == {"1", "3", "12", "7"}
    grids = {g.id: g.name for g in db.session.scalars(select(Grid))}
    assert grids[buildings["3"].grid_id] == "第一网格"
    assert buildings["3"].name == "3号楼" and buildings["3"].units == 3 and buildings["1"].floors == 6
    assert buildings["7"].grid_id is None
    staff = {s.name: s for s in db.session.scalars(select(Staff))}
    assert staff["王秀英"].roles == {"community_admin", "duty"}
    assert staff["王秀英"].phone == "13900000101"
    assert staff["张丽"].phone == "13900000103" and staff["张丽"].roles == {"duty", "grid_leader"}
    assert grids[staff["孙婷"].grid_id] == "第一网格"
    department = db.session.scalars(select(Department)).one()
    assert staff["何亮"].department_id == department.id and staff["何亮"].phone == "13900000116"
    assert staff["何亮"].community_id is None and staff["何亮"].street_id == department.street_id
    assert staff["钱卫东"].roles == {"street_admin"} and staff["钱卫东"].street_id == community.street_id
    groups = {g.chat_id: g for g in db.session.scalars(select(ResidentGroup))}
    assert (groups["wrOgAAA1"].channel, groups["wrOgAAA1"].kind) == ("wework", "resident")
    assert (groups["duty-1"].channel, groups["duty-1"].kind) == ("group", "duty")
    assert groups["duty-1"].webhook_url.startswith("https://")


def test_importing_again_updates_and_never_duplicates(app, org_file, tmp_path):
    import_file(org_file)
    sizes = {m: count(m) for m in (Street, Community, Grid, Building, Department, Staff, ResidentGroup)}
    again = import_file(org_file)
    assert again.ok
    assert all(c.created == 0 and c.updated == 0 for c in again.counts.values())
    assert sum(c.unchanged for c in again.counts.values()) == 16

    changed = {k: [list(r) for r in v] for k, v in ORG.items()}
    changed["楼栋"][3][2] = "第一网格"      # 12幢 moves grid
    changed["工作人员"][2][7] = "党员兼职网格员"  # 孙婷's title
    changed["工作人员"][3][2] = "值班"        # 张丽 is no longer grid leader
    result = import_file(write_xlsx(tmp_path / "changed.xlsx", changed))
    assert result.ok
    assert result.counts["buildings"].updated == 1 and result.counts["staff"].updated == 2
    assert {m: count(m) for m in sizes} == sizes
    zhang = db.session.scalars(select(Staff).where(Staff.name == "张丽")).one()
    assert zhang.roles == {"duty"}


def test_bad_rows_are_reported_and_the_good_rows_kept(app, org_file, tmp_path):
    import_file(org_file)
    bad = write_xlsx(tmp_path / "bad.xlsx", {
        "楼栋": [
            ["社区", "楼号", "网格"],
            ["富强新村社区", "20栋", "第一网格"],        # row 2: good
            ["幸福里社区", "21栋", None],               # row 3: unknown community
            ["富强新村社区", "物业楼", None],            # row 4: bad number
            ["富强新村社区", "22栋", "第九网格"],        # row 5: unknown grid
            [None, None, None],                        # row 6: blank, skipped
            ["富强新村社区", "23", None],               # row 7: good
        ],
        "工作人员": [
            ["姓名", "手机", "角色", "社区", "网格"],
            ["赵磊", "1390000010", "网格员", "富强新村社区", "第二网格"],   # row 2: bad phone
            ["吴静", "13900000109", "保安", "富强新村社区", None],          # row 3: unknown role
            ["徐强", "13900000110", "网格员", "富强新村社区", None],        # row 4: grid worker needs a grid
            ["朱美华", "13900000113", None, "富强新村社区", None],          # row 5: no role
            ["陈明", "13900000104", "值班", None, None],                   # row 6: duty needs a community
            ["胡德明", "13900000114", "值班", "富强新村社区", None],        # row 7: good
        ],
        "居民群": [
            ["社区", "群名称", "群ID", "类型", "推送地址"],
            ["富强新村社区", "三群", "g3", "业主群", None],                 # row 2: unknown kind
            ["富强新村社区", "四群", "g4", None, "qyapi.weixin.qq.com"],    # row 3: bad webhook
            ["富强新村社区", None, "g5", None, None],                       # row 4: missing name
        ],
    })
    result = import_file(bad)
    problems = {(p.sheet, p.row): p.reason for p in result.problems}
    assert set(problems) == {("楼栋", 3), ("楼栋", 4), ("楼栋", 5), ("工作人员", 2), ("工作人员", 3),
                             ("工作人员", 4), ("工作人员", 5), ("工作人员", 6), ("居民群", 2), ("居民群", 3),
                             ("居民群", 4)}
    assert "未知社区“幸福里社区”" in problems[("楼栋", 3)]
    assert "楼号“物业楼”无法识别" in problems[("楼栋", 4)]
    assert "没有网格“第九网格”" in problems[("楼栋", 5)]
    assert "手机号格式不正确" in problems[("工作人员", 2)]
    assert "未知角色“保安”" in problems[("工作人员", 3)]
    assert "需要填写网格" in problems[("工作人员", 4)]
    assert "角色不能为空" in problems[("工作人员", 5)]
    assert "需要填写社区" in problems[("工作人员", 6)]
    assert "未知类型“业主群”" in problems[("居民群", 2)]
    assert "推送地址" in problems[("居民群", 3)]
    assert "群名称不能为空" in problems[("居民群", 4)]
    assert str(result.problems[0]).startswith("[楼栋] 第3行：")
    assert (result.counts["buildings"].created, result.counts["buildings"].errors) == (2, 3)
    assert (result.counts["staff"].created, result.counts["staff"].errors) == (1, 5)
    numbers = set(db.session.scalars(select(Building.number)))
    assert {"20", "23"} <= numbers and "21" not in numbers and "22" not in numbers
    names = set(db.session.scalars(select(Staff.name)))
    assert "胡德明" in names and not names & {"赵磊", "吴静", "徐强", "朱美华", "陈明"}
    assert count(ResidentGroup) == 2


def test_a_row_that_fails_after_writing_leaves_nothing_behind(app, tmp_path, monkeypatch):
    original = importing.UPSERTS["streets"]

    def fails_after_writing(values):
        outcome, street = original(values)
        db.session.add(Department(name=f"{street.name}的部门", street_id=street.id))
        db.session.flush()
        if street.name == "坏街道":
            raise RowError("测试：写入后失败")
        return outcome, street

    monkeypatch.setitem(importing.UPSERTS, "streets", fails_after_writing)
    path = write_csv(tmp_path / "streets.csv", [["名称"], ["好街道"], ["坏街道"], ["另一街道"]])
    result = import_file(path)
    assert [(p.row, p.reason) for p in result.problems] == [(3, "测试：写入后失败")]
    db.session.expire_all()
    assert set(db.session.scalars(select(Street.name))) == {"好街道", "另一街道"}
    assert set(db.session.scalars(select(Department.name))) == {"好街道的部门", "另一街道的部门"}


def test_the_file_is_one_transaction(app, tmp_path, monkeypatch):
    original = importing.UPSERTS["streets"]

    def crashes_on_third(values):
        if values["name"] == "三":
            raise RuntimeError("disk on fire")
        return original(values)

    monkeypatch.setitem(importing.UPSERTS, "streets", crashes_on_third)
    path = write_csv(tmp_path / "streets.csv", [["名称"], ["一"], ["二"], ["三"]])
    with pytest.raises(RuntimeError):
        import_file(path)
    assert count(Street) == 0
    assert count(AuditLog) == 0


def test_dry_run_checks_everything_and_saves_nothing(app, org_file):
    result = import_file(org_file, dry_run=True)
    assert result.ok and result.dry_run
    assert result.counts["buildings"].created == 4
    db.session.expire_all()
    for model in (Street, Community, Grid, Building, Department, Staff, ResidentGroup, AuditLog):
        assert count(model) == 0, model


def test_each_import_run_writes_one_audit_entry(app, org_file):
    import_file(org_file)
    import_file(org_file)
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "data.imported")).all()
    assert len(entries) == 2
    assert entries[0].detail["file"] == "community.xlsx"
    assert entries[0].detail["counts"]["buildings"]["created"] == 4
    assert entries[1].detail["counts"]["buildings"]["unchanged"] == 4


def test_missing_required_column_imports_nothing(app, tmp_path):
    path = write_xlsx(tmp_path / "partial.xlsx", {
        "街道": [["名称"], ["红梅街道"]],
        "楼栋": [["社区", "网格"], ["富强新村社区", "第一网格"]],
    })
    with pytest.raises(ImportFileError, match="缺少必填列：楼号"):
        import_file(path)
    assert count(Street) == 0


def test_title_rows_notes_in_headers_english_aliases_and_unknown_columns(app, tmp_path):
    street = factories.street(name="红梅街道")
    factories.community(name="富强新村社区", street=street)
    path = write_xlsx(tmp_path / "b.xlsx", {
        "Buildings": [
            ["富强新村社区楼栋信息表（2026年）"],
            [],
            ["community", "Number*", "楼栋名称(选填)", "备注"],
            ["富强新村社区", "5号楼", "五号楼（老年楼）", "加装电梯"],
            [None, None, None, None],
            ["富强新村社区", "楼", None, None],
        ],
        "说明": [["这是说明"]],
    })
    result = import_file(path)
    assert [(p.sheet, p.row) for p in result.problems] == [("Buildings", 6)]
    assert any("备注" in w for w in result.warnings)
    assert any("说明" in w for w in result.warnings)
    building = db.session.scalars(select(Building)).one()
    assert (building.number, building.name) == ("5", "五号楼（老年楼）")


def test_csv_in_utf8_and_gbk_with_the_kind_from_the_file_name(app, tmp_path):
    factories.community(name="富强新村社区", street=factories.street(name="红梅街道"))
    factories.db.session.commit()
    rows = [["社区", "楼号"], ["富强新村社区", "三号楼"], ["富强新村社区", "4栋"]]
    assert import_file(write_csv(tmp_path / "楼栋.csv", rows)).counts["buildings"].created == 2
    gbk = write_csv(tmp_path / "富强新村-楼栋.csv", rows + [["富强新村社区", "十二幢"]], encoding="gbk")
    result = import_file(gbk)
    assert (result.counts["buildings"].unchanged, result.counts["buildings"].created) == (2, 1)
    assert set(db.session.scalars(select(Building.number))) == {"3", "4", "12"}


def test_csv_kind_option_overrides_the_file_name(app, tmp_path):
    path = write_csv(tmp_path / "export.csv", [["名称", "区"], ["红梅街道", "天宁区"]])
    with pytest.raises(ImportFileError, match="--kind"):
        import_file(path)
    assert import_file(path, kind="街道").counts["streets"].created == 1
    with pytest.raises(ImportFileError, match="未知的数据类型"):
        import_file(path, kind="houses")


@pytest.mark.parametrize("stem, kind", [
    ("buildings", "buildings"), ("楼栋", "buildings"), ("Staff", "staff"), ("富强新村-工作人员", "staff"),
    ("resident_groups", "groups"), ("居民群2026", "groups"), ("streets", "streets"), ("社区楼栋", None),
    ("export", None),
])
def test_kind_from_file_name(stem, kind):
    assert kind_from_stem(stem) == kind


def test_the_same_community_name_in_two_streets_needs_the_street_column(app, tmp_path):
    for street_name in ("红梅街道", "茶山街道"):
        factories.community(name="新村社区", street=factories.street(name=street_name))
    rows = [["社区", "街道", "名称"], ["新村社区", None, "一网格"], ["新村社区", "茶山街道", "一网格"]]
    result = import_file(write_csv(tmp_path / "grids.csv", rows))
    assert [(p.row, p.reason) for p in result.problems] == [(2, "有多个名为“新村社区”的社区，请填写街道列")]
    grid = db.session.scalars(select(Grid)).one()
    assert db.session.get(Community, grid.community_id).street.name == "茶山街道"


def test_staff_are_matched_by_phone_then_wework_then_name(app, tmp_path, org_file):
    import_file(org_file)
    before = count(Staff)
    rows = [
        ["姓名", "手机", "角色", "社区", "企业微信账号", "在岗"],
        ["王秀英", "13900000101", "社区管理员", "富强新村社区", None, "是"],     # same phone: update
        ["王秀英（书记）", None, "社区管理员、值班", "富强新村社区", "wangxy", None],  # same WeCom id: rename
        ["孙婷", None, "网格员、值班", "富强新村社区", None, "否"],               # same name in community
        ["李四", "13900000199", "值班", "富强新村社区", "wangxy", None],          # WeCom id of someone else
    ]
    result = import_file(write_csv(tmp_path / "staff.csv", rows))
    assert [(p.row, p.reason) for p in result.problems] == [(5, "企业微信账号“wangxy”已被“王秀英（书记）”使用")]
    assert result.counts["staff"].updated == 3 and count(Staff) == before
    renamed = db.session.scalars(select(Staff).where(Staff.wework_userid == "wangxy")).one()
    assert renamed.name == "王秀英（书记）" and renamed.roles == {"community_admin", "duty"}
    sun = db.session.scalars(select(Staff).where(Staff.name == "孙婷")).one()
    assert sun.roles == {"grid_worker", "duty"} and sun.active is False and sun.grid_id is not None


@pytest.mark.parametrize("name, content, message", [
    ("nothere.xlsx", None, "找不到文件"),
    ("notes.txt", b"hello", "不支持的文件类型"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "不支持旧版 .xls"),
    ("broken.xlsx", b"PK\x03\x04 this is not really a zip", "无法读取 Excel 文件"),
    ("text.xlsx", "名称\n红梅街道\n".encode(), "无法读取 Excel 文件"),
    ("streets.csv", b"", "空文件"),
    ("streets.csv", b"PK\x03\x04\x14\x00", "其实是 Excel 文件"),
    ("streets.csv", b"\xff\xfe\x00\x00\xff\xff\xfe", "编码"),
    ("streets.csv", "地址,电话\n某地,123\n".encode(), "找不到表头"),
])
def test_unusable_files_are_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message) as raised:
        read_file(path)
    assert "\n" not in str(raised.value)


def test_a_workbook_without_known_sheets(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Sheet1": [["名称"], ["红梅街道"]]})
    with pytest.raises(ImportFileError, match="没有可导入的工作表"):
        read_file(path)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ImportFileError, match="是文件夹"):
        read_file(tmp_path)


# ---- the sample files in docs/samples ----------------------------------------------------------------

def _load_make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(path: Path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    finally:
        workbook.close()


def test_sample_files_are_what_make_samples_writes(tmp_path):
    _load_make_samples().main(["make_samples.py", str(tmp_path)])
    assert _cells(tmp_path / "community.xlsx") == _cells(SAMPLES / "community.xlsx")
    assert (tmp_path / "buildings.csv").read_bytes() == (SAMPLES / "buildings.csv").read_bytes()


def test_sample_files_import_without_a_bad_row(app):
    first = import_file(SAMPLES / "community.xlsx")
    assert first.ok, [str(p) for p in first.problems]
    assert first.counts["buildings"].created == 36 and first.counts["staff"].created == 18
    second = import_file(SAMPLES / "buildings.csv")
    assert second.ok and second.counts["buildings"].unchanged == 10
