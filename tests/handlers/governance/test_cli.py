"""`linli governance report|export|hotspots` and `linli map stations|locate|import-locations` on the demo."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from app.cli.governance import governance_group, map_group
from app.extensions import db
from app.handlers.demo import seed_demo
from app.models import Building, BuildingLocation


@pytest.fixture
def demo(app, clock):
    seed_demo()


def test_report_export_and_hotspots(cli_runner, demo, tmp_path):
    result = cli_runner.invoke(governance_group, ["report", "--community", "富强新村社区", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("富强新村社区 2026: 6 units")
    assert "常州富强物业服务有限公司: 1 claimed, 1 projects, 12 h 物资12个" in result.output
    out = tmp_path / "共建.xlsx"
    result = cli_runner.invoke(governance_group, ["export", "--community", "富强新村社区", "-o", str(out)])
    assert result.exit_code == 0 and load_workbook(out)["汇总表"]["A1"].value.startswith("红梅街道富强新村社区")
    result = cli_runner.invoke(governance_group, ["hotspots", "--community", "富强新村社区"])
    assert result.output.startswith("3号楼电动车问题反复出现（4件）: requests R")
    refused = cli_runner.invoke(governance_group, ["export", "--community", "富强新村社区", "-o", str(tmp_path / "x.csv")])
    assert refused.exit_code != 0 and "should end in .xlsx" in refused.output
    unknown = cli_runner.invoke(governance_group, ["report", "--community", "没有的社区"])
    assert unknown.exit_code != 0 and "no community named" in unknown.output


def test_map_commands(cli_runner, demo, tmp_path):
    result = cli_runner.invoke(map_group, ["stations", "--community", "富强新村社区", "--service", "blood_pressure"])
    assert result.exit_code == 0 and "社区卫生服务站\topen until 11:30" in result.output
    result = cli_runner.invoke(map_group, ["locate", "--community", "富强新村社区", "--building", "3栋",
                                           "--lat", "31.7791", "--lng", "119.9801"])
    assert result.exit_code == 0, result.output
    building = db.session.query(Building).filter_by(number="3").one()
    assert db.session.get(BuildingLocation, building.id).lng == 119.9801
    bad = cli_runner.invoke(map_group, ["locate", "--community", "富强新村社区", "--building", "3",
                                        "--lat", "95", "--lng", "119.98"])
    assert bad.exit_code != 0 and "lat: 纬度不能超过90" in bad.output
    sheet = tmp_path / "楼栋坐标.csv"
    sheet.write_text("楼栋,纬度,经度\n1栋,31.7788,119.9756\n2,31.7789,abc\n", encoding="utf-8")
    result = cli_runner.invoke(map_group, ["import-locations", "--community", "富强新村社区", str(sheet)])
    assert result.exit_code != 0 and "line 3" in result.output and "1 buildings saved before it" in result.output
    # A file without the columns said "0 building locations saved" and exited 0.
    wrong = tmp_path / "坐标.csv"
    wrong.write_text("名称,x,y\n1栋,31.7788,119.9756\n", encoding="utf-8")
    result = cli_runner.invoke(map_group, ["import-locations", "--community", "富强新村社区", str(wrong)])
    assert result.exit_code == 1 and "no column 楼栋, 纬度, 经度" in result.output and "nothing saved" in result.output
