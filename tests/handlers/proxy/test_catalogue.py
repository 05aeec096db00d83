"""The proxy-handling catalogue: the default file, loading, editing, imports, and what the bot knows."""
from __future__ import annotations

from types import SimpleNamespace

import openpyxl
import pytest

from app.cli.proxy import catalogue_group, station_group
from app.extensions import db
from app.handlers.proxy import catalogue, catalogue_import, chat
from app.handlers.proxy.errors import CatalogueError
from app.models.proxy import ServiceItem
from tests import factories as f

REQUIRED = {"zunlaojin", "dibao", "dushengzinv", "juzhuzheng", "laonian_youdaizheng", "canjirenzheng",
            "yibao_canbao", "shebaoka", "linshi_jiuzhu", "jiuye_shiye"}


def test_the_default_catalogue_has_the_eighteen_common_items_with_what_residents_call_them(app):
    entries = catalogue.read_catalogue_file()
    assert len(entries) == 18
    by_key = {e["key"]: e for e in entries}
    assert REQUIRED <= set(by_key)
    assert {"高龄津贴", "老年津贴", "尊老补贴", "尊老金"} <= set(by_key["zunlaojin"]["aliases"])
    assert "独生子女费" in by_key["dushengzinv"]["aliases"]
    assert "低保" in by_key["dibao"]["aliases"]
    for entry in entries:
        assert entry["materials"] and entry["department"] and entry["eligibility"]
        assert entry["time_limit_workdays"] > 0
    # No name or alias is shared by two items: the bot could not tell them apart.
    seen: dict[str, str] = {}
    for entry in entries:
        for name in [entry["name"], *entry["aliases"]]:
            assert seen.setdefault(name, entry["key"]) == entry["key"], f"{name} used twice"
    assert by_key["juzhuzheng"]["visit_required"] is True
    assert by_key["zunlaojin"]["visit_required"] is False


def test_loading_into_a_community_is_idempotent_and_update_overwrites(app, tmp_path):
    community = f.community()
    first = catalogue.load_catalogue(community)
    assert len(first.created) == 18
    again = catalogue.load_catalogue(community)
    assert again.created == [] and len(again.unchanged) == 18
    item = catalogue.find_item(community.id, "zunlaojin")
    item.time_limit_workdays = 99
    db.session.commit()
    catalogue.load_catalogue(community)  # kept: the admin's edit survives a plain load
    assert catalogue.find_item(community.id, "zunlaojin").time_limit_workdays == 99
    updated = catalogue.load_catalogue(community, update=True)
    assert updated.updated == ["zunlaojin"]
    assert catalogue.find_item(community.id, "zunlaojin").time_limit_workdays == 10


@pytest.mark.parametrize("content, message", [
    ("items: [", "格式错误"),
    ("version: 1\n", "没有 items"),
    ("items:\n  - key: Bad-Key\n    name: x\n    time_limit_workdays: 3\n", "标识只能用小写字母"),
    ("items:\n  - key: abc\n    name: x\n    time_limit_workdays: 3\n  - key: abc\n    name: y\n"
     "    time_limit_workdays: 3\n", "重复"),
    ("items:\n  - key: abc\n    name: x\n", "办理时限"),
    ("items:\n  - key: abc\n    name: x\n    time_limit_workdays: 3\n    visit_required: maybe\n", "是”或“否"),
    ("items:\n  - key: abc\n    name: x\n    time_limit_workdays: 3\n    colour: red\n", "未知字段"),
])
def test_a_broken_catalogue_file_is_refused_naming_the_item(app, tmp_path, content, message):
    path = tmp_path / "cat.yaml"
    path.write_text(content, encoding="utf-8")
    community = f.community()
    with pytest.raises(CatalogueError, match=message):
        catalogue.load_catalogue(community, path=path)
    assert db.session.query(ServiceItem).count() == 0


def test_the_configured_catalogue_file_is_used(app, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("items:\n  - key: banzheng\n    name: 开具证明\n    aliases: 开证明、盖章\n"
                    "    materials: 身份证；户口簿\n    time_limit_workdays: 1\n", encoding="utf-8")
    app.config["PROXY_CATALOGUE_FILE"] = str(path)
    community = f.community()
    catalogue.load_catalogue(community)
    item = catalogue.find_item(community.id, "banzheng")
    assert item.aliases == ["开证明", "盖章"] and item.materials == ["身份证", "户口簿"]
    assert item.visit_required is True and item.active is True


def test_create_and_update_items_validate_and_refuse_ambiguous_aliases(app):
    community = f.community()
    catalogue.load_catalogue(community)
    item = catalogue.create_item(community.id, {"key": "huzhao", "name": "护照办理代办", "aliases": ["护照"],
                                                "materials": ["身份证"], "time_limit_workdays": 7})
    assert item.id and item.aliases == ["护照"]
    with pytest.raises(CatalogueError) as exc:
        catalogue.create_item(community.id, {"key": "huzhao", "name": "x", "time_limit_workdays": 1})
    assert exc.value.field == "key"
    with pytest.raises(CatalogueError) as exc:
        catalogue.create_item(community.id, {"key": "other", "name": "其他", "aliases": ["高龄津贴"],
                                             "time_limit_workdays": 1})
    assert exc.value.field == "aliases" and "尊老金申领" in exc.value.message
    catalogue.update_item(item, {"aliases": ["护照", "出国护照"], "time_limit_workdays": "5个工作日"})
    assert item.aliases == ["护照", "出国护照"] and item.time_limit_workdays == 5
    with pytest.raises(CatalogueError) as exc:
        catalogue.update_item(item, {"key": "changed"})
    assert exc.value.field == "key"
    with pytest.raises(CatalogueError):
        catalogue.update_item(item, {"time_limit_workdays": -1})
    with pytest.raises(CatalogueError):
        catalogue.update_item(item, {"aliases": "低保"})


def _write_csv(path, rows, encoding="utf-8-sig"):
    import csv
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_import_keeps_good_rows_and_reports_bad_ones_by_row_number(app, tmp_path):
    community = f.community()
    path = tmp_path / "代办事项.csv"
    _write_csv(path, [
        ["社区代办事项目录（2026版）"],
        ["标识", "名称", "别名", "材料清单", "承办部门", "办理时限（工作日）", "办理条件", "本人到场", "备注"],
        ["zunlaojin", "尊老金申领", "尊老金、高龄津贴", "身份证；户口簿", "区民政局", "10", "80周岁以上", "否", ""],
        ["", "缺标识", "", "", "", "5", "", "", ""],
        ["dibao", "低保申请", "低保", "身份证", "街道", "三十", "", "是", ""],
        ["juzhuzheng", "居住证办理", "居住证、暂住证", "身份证\n租房合同", "派出所", "15天", "", "是", ""],
        ["zunlaojin", "重复", "", "", "", "1", "", "", ""],
        ["canji", "残疾人证", "尊老金", "", "", "20", "", "", ""],
    ], encoding="gb18030")
    report = catalogue_import.import_file(community, path)
    assert (report.created, report.updated) == (2, 0)
    assert report.errors[0].startswith("第4行：") and "标识" in report.errors[0]
    assert report.errors[1].startswith("第5行：") and "办理时限" in report.errors[1]
    assert report.errors[2].startswith("第7行：") and "重复" in report.errors[2]
    assert report.errors[3].startswith("第8行：") and "尊老金申领" in report.errors[3]
    items = {i.key: i for i in catalogue.items_for(community.id)}
    assert set(items) == {"zunlaojin", "juzhuzheng"}
    assert items["juzhuzheng"].materials == ["身份证", "租房合同"]
    assert items["juzhuzheng"].time_limit_workdays == 15
    assert items["zunlaojin"].visit_required is False


def test_import_of_an_xlsx_updates_by_key_and_export_round_trips(app, tmp_path):
    community = f.community()
    catalogue.load_catalogue(community)
    rows = catalogue_import.export_rows(community.id)
    assert rows[0][:3] == ["标识", "名称", "别名"] and len(rows) == 19
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "代办事项"
    sheet.append(rows[0])
    edited = list(rows[1])
    edited[5] = 8  # 办理时限
    sheet.append(edited)
    path = tmp_path / "catalogue.xlsx"
    workbook.save(path)
    report = catalogue_import.import_file(community, path)
    assert report.ok and report.updated == 1
    assert catalogue.find_item(community.id, rows[1][0]).time_limit_workdays == 8


def test_import_refuses_files_without_the_required_columns(app, tmp_path):
    community = f.community()
    path = tmp_path / "x.csv"
    _write_csv(path, [["名称", "别名"], ["尊老金", ""]])
    with pytest.raises(CatalogueError, match="缺少必填列"):
        catalogue_import.import_file(community, path)
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CatalogueError, match="不支持"):
        catalogue_import.import_file(community, tmp_path / "x.xls")
    with pytest.raises(CatalogueError, match="找不到文件"):
        catalogue_import.import_file(community, tmp_path / "missing.csv")
    assert db.session.query(ServiceItem).count() == 0


def test_match_item_prefers_the_longest_name(app):
    community = f.community()
    catalogue.load_catalogue(community)
    assert catalogue.match_item(community.id, "我想办一下高龄津贴").key == "zunlaojin"
    assert catalogue.match_item(community.id, "残疾人护理补贴怎么申请").key == "canji_butie"
    assert catalogue.match_item(community.id, "残疾证到期了要换").key == "canjirenzheng"
    assert catalogue.match_item(community.id, "今天天气不错") is None


def test_service_terms_are_the_bots_vocabulary(app):
    from app.bot import ServiceTerm

    community = f.community()
    catalogue.load_catalogue(community)
    item = catalogue.find_item(community.id, "shengyu_dengji")
    item.active = False
    db.session.commit()
    terms = chat.service_terms(community.id)
    assert all(isinstance(t, ServiceTerm) for t in terms)
    by_key = {t.key: t for t in terms}
    assert "shengyu_dengji" not in by_key
    assert by_key["zunlaojin"].names[0] == "尊老金申领" and "高龄津贴" in by_key["zunlaojin"].names
    # Without a community (or one without a catalogue) the bot still knows the default items.
    assert {t.key for t in chat.service_terms(None)} >= REQUIRED
    assert {t.key for t in chat.service_terms(f.community().id)} >= REQUIRED


def test_describe_item_answers_what_to_bring(app):
    community = f.community()
    catalogue.load_catalogue(community)

    def ctx(text, slots=None, community_id=community.id):
        return SimpleNamespace(understanding=SimpleNamespace(slots=slots or {}), inbound=SimpleNamespace(text=text),
                               community_id=community_id)

    answer = chat.describe_item(ctx("办居住证要带什么材料", {"service": "juzhuzheng"}))
    assert "【居住证办理】" in answer and "需携带材料" in answer and "· 本人身份证原件" in answer
    assert "派出所" in answer and "15个工作日" in answer and "需本人到场办理" in answer
    assert "预约代办居住证" in answer
    assert "年满80周岁" in chat.describe_item(ctx("尊老金怎么领"))  # found by name without the slot
    assert chat.describe_item(ctx("服务中心几点下班")) is None
    assert chat.describe_item(ctx("尊老金怎么领", community_id=None)) is None


def test_demo_seed_includes_the_catalogue_and_a_station(app, clock):
    from app.handlers.demo import seed_demo
    from app.handlers.proxy.stations import stations_for

    summary = seed_demo()
    items = catalogue.items_for(summary.community_id)
    assert len(items) == 18
    (station,) = stations_for(summary.community_id)
    assert station.name == "政务代办站" and station.capacity == 2
    assert any("代办站" in note for note in summary.notes)
    seed_demo()  # again: nothing duplicated
    assert len(catalogue.items_for(summary.community_id)) == 18
    assert len(stations_for(summary.community_id)) == 1


# ---- the operator commands (`linli catalogue ...`, `linli station ...`) ------------------------------

def test_cli_catalogue_load_import_export_and_list(app, cli_runner, tmp_path):
    community = f.community(name="富强新村社区")
    db.session.commit()
    result = cli_runner.invoke(catalogue_group, ["load", "--community", "富强新村社区"])
    assert result.exit_code == 0, result.output
    assert "新增 18 项" in result.output
    result = cli_runner.invoke(catalogue_group, ["load", "--community", "没有的社区"])
    assert result.exit_code != 0 and "没有名为“没有的社区”的社区" in result.output

    exported = tmp_path / "目录.csv"
    result = cli_runner.invoke(catalogue_group, ["export", str(exported), "--community", "富强新村社区"])
    assert result.exit_code == 0 and "18 项" in result.output
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(",10,", ",12,", 1)  # 尊老金: 10 → 12 working days
    lines.append("bad key,坏行,,,,3,,,,,")
    exported.write_text("\n".join(lines), encoding="utf-8-sig")
    result = cli_runner.invoke(catalogue_group, ["import", str(exported), "--community", "富强新村社区"])
    assert result.exit_code != 0
    assert "更新 1 项" in result.output and "第20行：标识只能用小写字母" in result.output
    assert catalogue.find_item(community.id, "zunlaojin").time_limit_workdays == 12

    result = cli_runner.invoke(catalogue_group, ["list", "--community", "富强新村社区"])
    assert result.exit_code == 0 and "zunlaojin\t尊老金申领\t12个工作日" in result.output


def test_cli_station_add_close_open_and_list(app, cli_runner, clock):
    f.community(name="富强新村社区")
    db.session.commit()
    result = cli_runner.invoke(station_group, ["add", "--community", "富强新村社区", "--name", "政务代办站",
                                     "--address", "活动中心", "--hours", "mon-fri 08:30-11:30,14:00-17:30",
                                     "--hours", "sat 09:00-11:30x1"])
    assert result.exit_code == 0, result.output
    assert "周一至周五 08:30–11:30、14:00–17:30；周六 09:00–11:30" in result.output
    station_id = result.output.split()[1]
    bad = cli_runner.invoke(station_group, ["add", "--community", "富强新村社区", "--name", "二站",
                                  "--hours", "mon 11:00-09:00"])
    assert bad.exit_code != 0 and "晚于开始时间" in bad.output
    result = cli_runner.invoke(station_group, ["close", station_id, "--date", "2026-11-20", "--reason", "培训"])
    assert result.exit_code == 0 and "暂停服务" in result.output
    result = cli_runner.invoke(station_group, ["list"])
    assert "暂停: 2026-11-20" in result.output
    result = cli_runner.invoke(station_group, ["open", station_id, "--date", "2026-11-20"])
    assert result.exit_code == 0
    result = cli_runner.invoke(station_group, ["open", station_id, "--date", "2026-11-20"])
    assert result.exit_code != 0 and "没有设置暂停服务" in result.output
    result = cli_runner.invoke(station_group, ["hours", station_id, "--hours", "mon-fri 09:00-11:00"])
    assert result.exit_code == 0 and "周一至周五 09:00–11:00" in result.output
    result = cli_runner.invoke(station_group, ["close", "999", "--date", "2026-11-20"])
    assert result.exit_code != 0 and "没有编号为 999 的代办站" in result.output
