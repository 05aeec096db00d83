"""`linli import` and `linli seed-demo` as operators run them: output and exit codes."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.cli import cli
from app.extensions import db
from app.models import Building, Community, Staff, Street
from tests.handlers.org.test_importing import ORG, write_csv, write_xlsx

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_prints_a_summary_per_kind_and_exits_0(cli_runner, tmp_path):
    path = write_xlsx(tmp_path / "community.xlsx", ORG)
    result = cli_runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "楼栋 buildings: 新增 4，更新 0，未变 0，出错 0" in result.stdout
    assert "工作人员 staff: 新增 5" in result.stdout
    assert "全部导入成功" in result.stdout
    assert result.stderr == ""
    again = cli_runner.invoke(cli, ["import", str(path)])
    assert again.exit_code == 0
    assert "楼栋 buildings: 新增 0，更新 0，未变 4，出错 0" in again.stdout
    assert count(Building) == 4


def test_import_with_bad_rows_reports_them_and_exits_1(cli_runner, tmp_path):
    cli_runner.invoke(cli, ["import", str(write_xlsx(tmp_path / "org.xlsx", ORG))])
    path = write_csv(tmp_path / "buildings.csv", [
        ["社区", "楼号"], ["富强新村社区", "30栋"], ["不存在社区", "31栋"], ["富强新村社区", "屋顶"]])
    result = cli_runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 1
    assert "楼栋 buildings: 新增 1，更新 0，未变 0，出错 2" in result.stdout
    assert "2 行出错" in result.stderr
    assert "[buildings.csv] 第3行：未知社区“不存在社区”" in result.stderr
    assert "[buildings.csv] 第4行：楼号“屋顶”无法识别" in result.stderr
    assert "30" in db.session.scalars(select(Building.number)).all()


def test_dry_run_saves_nothing(cli_runner, tmp_path):
    result = cli_runner.invoke(cli, ["import", str(write_xlsx(tmp_path / "org.xlsx", ORG)), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "试运行" in result.stdout and "新增 4" in result.stdout
    assert count(Street) == count(Community) == count(Building) == count(Staff) == 0


def test_dry_run_with_bad_rows_exits_1_and_saves_nothing(cli_runner, tmp_path):
    path = write_csv(tmp_path / "streets.csv", [["名称"], ["红梅街道"], [None], ["x" * 101]])
    result = cli_runner.invoke(cli, ["import", "--dry-run", str(path)])
    assert result.exit_code == 1
    assert "第4行：街道名称太长" in result.stderr
    assert count(Street) == 0


def test_kind_option_for_a_csv(cli_runner, tmp_path):
    path = write_csv(tmp_path / "export.csv", [["名称"], ["红梅街道"]])
    assert cli_runner.invoke(cli, ["import", str(path)]).exit_code == 2
    result = cli_runner.invoke(cli, ["import", str(path), "--kind", "streets"])
    assert result.exit_code == 0, result.output
    assert count(Street) == 1


@pytest.mark.parametrize("name, content, message", [
    ("missing.xlsx", None, "找不到文件"),
    ("community.xlsx", b"PK\x03\x04garbage", "无法读取 Excel 文件"),
    ("community.docx", b"hello", "不支持的文件类型"),
    ("streets.csv", "名称,区\n".encode() + b"\x00\x01", "不是文本 CSV"),
])
def test_an_unusable_file_is_one_line_and_exit_2(cli_runner, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = cli_runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("linli: ")
    assert "Traceback" not in result.output


def test_missing_required_column_is_one_line_and_exit_2(cli_runner, tmp_path):
    path = write_xlsx(tmp_path / "org.xlsx", {"街道": [["名称"], ["红梅街道"]], "楼栋": [["社区"], ["富强新村社区"]]})
    result = cli_runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert "[楼栋] 缺少必填列：楼号" in result.stderr
    assert count(Street) == 0


def test_import_before_init_db_says_so(tmp_path, redis_url):
    app = create_app("test", overrides={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "REDIS_URL": redis_url,
                                        "INSTANCE_PATH": str(tmp_path / "instance")})
    path = write_csv(tmp_path / "streets.csv", [["名称"], ["红梅街道"]])
    result = app.test_cli_runner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert "linli init-db" in result.output
    result = app.test_cli_runner().invoke(cli, ["seed-demo"])
    assert result.exit_code == 1
    assert "linli init-db" in result.output


def test_the_sample_files_import_cleanly(cli_runner):
    first = cli_runner.invoke(cli, ["import", str(SAMPLES / "community.xlsx")])
    assert first.exit_code == 0, first.output
    assert "忽略工作表" in first.stdout  # the 说明 sheet
    second = cli_runner.invoke(cli, ["import", str(SAMPLES / "buildings.csv")])
    assert second.exit_code == 0, second.output
    assert "未变 10" in second.stdout


def test_seed_demo_then_again(cli_runner, clock):
    first = cli_runner.invoke(cli, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "楼栋 buildings: 新建 36，已存在 0" in first.stdout
    assert "演示数据已就绪" in first.stdout and "linli staff token" in first.stdout
    second = cli_runner.invoke(cli, ["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "楼栋 buildings: 新建 0，已存在 36" in second.stdout
    assert count(Building) == 36


def test_seed_demo_then_import_of_the_samples_changes_nothing(cli_runner, clock):
    cli_runner.invoke(cli, ["seed-demo"])
    result = cli_runner.invoke(cli, ["import", str(SAMPLES / "community.xlsx")])
    assert result.exit_code == 0, result.output
    for kind in ("streets", "communities", "grids", "buildings", "departments", "staff", "groups"):
        assert f"{kind}: 新增 0，更新 0" in result.stdout, kind


def test_commands_are_listed(cli_runner):
    result = cli_runner.invoke(cli, ["--help"])
    assert "import" in result.output and "seed-demo" in result.output
