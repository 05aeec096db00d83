"""The duty roster: who is on duty, gaps (half-open at midnight), swaps, the spreadsheet import."""
from __future__ import annotations

import csv
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.sla import roster, roster_import
from app.models import AuditLog, DutyShift
from app.models.roster import ShiftSwap
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def people(app):
    community = f.community(name="富强新村社区")
    admin = f.staff(roles=("community_admin",), community=community, name="王书记", phone="13900000001")
    zhang = f.staff(roles=("duty",), community=community, name="张伟", phone="13900000002")
    li = f.staff(roles=("duty",), community=community, name="李娜", phone="13900000003")
    chen = f.staff(roles=("duty",), community=community, name="陈静", phone="13900000004")
    db.session.commit()
    return community, admin, zhang, li, chen


def test_midnight_shift_change_leaves_no_gap_and_one_person_on_duty(people):
    community, _admin, zhang, li, _chen = people
    evening = f.shift(zhang, local(17, 16), local(18, 0))
    night = f.shift(li, local(18, 0), local(18, 8))
    assert [s.id for s in roster.on_duty(community.id, local(18, 0))] == [night.id]
    assert [s.id for s in roster.on_duty(community.id, local(17, 23, 59))] == [evening.id]
    assert roster.gaps(community.id, local(17, 16), local(18, 8)) == []


def test_gaps_are_the_uncovered_intervals(people):
    community, _admin, zhang, li, chen = people
    f.shift(zhang, local(17, 8), local(17, 12))
    f.shift(li, local(17, 10), local(17, 14))   # overlaps the first: merged
    f.shift(chen, local(17, 18), local(18, 0))
    assert roster.gaps(community.id, local(17, 0), local(18, 8)) == [
        (local(17, 0), local(17, 8)), (local(17, 14), local(17, 18)), (local(18, 0), local(18, 8))]
    assert roster.gaps(community.id, local(17, 9), local(17, 11)) == []
    assert roster.gaps(community.id, local(17, 11), local(17, 11)) == []


def test_a_shift_of_someone_who_left_covers_nothing(people):
    community, _admin, zhang, _li, _chen = people
    f.shift(zhang, local(17, 0), local(18, 0))
    zhang.active = False
    db.session.commit()
    assert roster.on_duty(community.id, local(17, 12)) == []
    assert roster.gaps(community.id, local(17, 0), local(18, 0)) == [(local(17, 0), local(18, 0))]


def test_duty_lead_and_admins(people):
    community, admin, zhang, li, _chen = people
    f.shift(zhang, local(17, 0), local(18, 0))
    f.shift(li, local(17, 0), local(18, 0), is_lead=True)
    other_admin = f.staff(roles=("community_admin",), name="别的社区书记")
    gone = f.staff(roles=("community_admin",), community=community, name="前任书记", active=False)
    db.session.commit()
    assert roster.duty_lead(community.id, local(17, 9)).id == li.id
    assert roster.on_duty(community.id, local(17, 9))[0].is_lead  # leads first
    assert roster.duty_lead(community.id, local(18, 9)) is None
    admins = roster.community_admins(community.id)
    assert [a.id for a in admins] == [admin.id]
    assert other_admin.id not in {a.id for a in admins} and gone.id not in {a.id for a in admins}


def test_nobody_is_on_two_overlapping_shifts(people):
    community, admin, zhang, li, _chen = people
    roster.add_shift(community_id=community.id, staff=zhang, starts_at=local(17, 8), ends_at=local(17, 20), actor=admin)
    with pytest.raises(roster.RosterError) as info:
        roster.add_shift(community_id=community.id, staff=zhang, starts_at=local(17, 19), ends_at=local(18, 8))
    assert info.value.conflict
    # Back to back is fine (half-open).
    roster.add_shift(community_id=community.id, staff=zhang, starts_at=local(17, 20), ends_at=local(18, 8))
    with pytest.raises(roster.RosterError) as info:
        roster.add_shift(community_id=community.id, staff=li, starts_at=local(17, 8), ends_at=local(17, 8))
    assert info.value.field == "ends_at"
    stranger = f.staff(roles=("duty",), name="外社区")
    with pytest.raises(roster.RosterError):
        roster.add_shift(community_id=community.id, staff=stranger, starts_at=local(19), ends_at=local(20))


def test_swapping_two_shifts_exchanges_their_staff_and_is_recorded(people):
    community, admin, zhang, li, _chen = people
    a = f.shift(zhang, local(17, 0), local(18, 0), is_lead=True)
    b = f.shift(li, local(18, 0), local(19, 0))
    db.session.commit()
    row = roster.swap(a, b, by=admin, reason="张伟家里有事")
    assert (a.staff_id, b.staff_id) == (li.id, zhang.id)
    assert a.is_lead and not b.is_lead  # the lead duty stays with the shift
    assert a.staff.name == "李娜"
    assert (row.staff_a_id, row.staff_b_id, row.shift_b_id, row.by_staff_id) == (zhang.id, li.id, b.id, admin.id)
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "roster.swapped")).one().actor_id == admin.id
    assert roster.on_duty(community.id, local(17, 12))[0].staff_id == li.id


def test_handing_a_shift_to_someone_else(people):
    community, admin, zhang, li, chen = people
    a = f.shift(zhang, local(17, 8), local(17, 20))
    f.shift(chen, local(17, 12), local(17, 14))
    db.session.commit()
    with pytest.raises(roster.RosterError) as info:
        roster.swap(a, chen, by=admin)  # 陈静 is busy 12–14
    assert info.value.conflict
    roster.swap(a, li, by=admin)
    assert a.staff_id == li.id
    assert db.session.scalars(select(ShiftSwap)).one().shift_b_id is None
    with pytest.raises(roster.RosterError):
        roster.swap(a, li, by=admin)
    stranger = f.staff(roles=("duty",), name="外社区")
    with pytest.raises(roster.RosterError):
        roster.swap(a, stranger, by=admin)


def _write_csv(path, rows, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_import_csv_with_days_night_shifts_leads_and_row_errors(people, tmp_path):
    community, _admin, zhang, li, chen = people
    path = _write_csv(tmp_path / "值班表.csv", [
        ["日期", "开始", "结束", "值班人员", "值班长", "备注"],
        ["2026-11-17", "", "", "张伟", "", "全天"],            # 00:00–24:00
        ["2026-11-18", "08:00", "18:00", "李娜", "是", ""],
        ["2026-11-18", "18:00", "08:00", "13900000004", "", "夜班"],  # by phone; ends next morning
        ["2026/11/19", "00:00", "24:00", "张伟、李娜", "李娜", ""],
        ["2026-11-20", "08:00", "", "张伟", "", ""],             # end missing
        ["2026-13-01", "", "", "张伟", "", ""],                  # no such date
        ["2026-11-21", "", "", "王五", "", ""],                  # unknown person
        ["", "", "", "", "", ""],                                # blank line: ignored
        ["2026-11-17", "12:00", "13:00", "张伟", "", ""],        # overlaps his full day
    ])
    result = roster_import.import_roster(path, community)
    assert result.created == 5
    assert [(e.row, e.message[:6]) for e in result.errors] == [
        (6, "开始和结束时"), (7, "日期「202"), (8, "本社区没有名"), (10, "张伟 在 1")]
    assert str(result.errors[2]).startswith("第8行：")
    shifts = {(s.staff_id, s.starts_at, s.ends_at, s.is_lead) for s in db.session.scalars(select(DutyShift))}
    assert shifts == {
        (zhang.id, local(17), local(18), False),
        (li.id, local(18, 8), local(18, 18), True),
        (chen.id, local(18, 18), local(19, 8), False),
        (zhang.id, local(19), local(20), False),
        (li.id, local(19), local(20), True),
    }
    assert roster.gaps(community.id, local(17), local(18, 8)) == [(local(18), local(18, 8))]
    # Importing the same file again changes nothing.
    again = roster_import.import_roster(path, community)
    assert (again.created, again.skipped, len(again.errors)) == (0, 5, 4)


def test_import_xlsx_with_real_date_and_time_cells(people, tmp_path):
    from openpyxl import Workbook

    community, _admin, zhang, li, _chen = people
    book = Workbook()
    sheet = book.active
    sheet.title = "值班表"
    sheet.append(["值班日期", "开始时间", "结束时间", "值班人", "带班领导"])
    sheet.append([date(2026, 11, 17), time(8, 0), time(20, 0), "张伟", "否"])
    sheet.append([None, datetime(2026, 11, 17, 20, 0), datetime(2026, 11, 18, 8, 0), "李娜", "√"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = roster_import.import_roster(path, community)
    assert result.errors == [] and result.created == 2
    assert roster.gaps(community.id, local(17, 8), local(18, 8)) == []
    assert roster.duty_lead(community.id, local(17, 21)).id == li.id


def test_import_gbk_csv_from_excel(people, tmp_path):
    community, _admin, _zhang, li, _chen = people
    path = _write_csv(tmp_path / "gbk.csv", [["日期", "值班人员"], ["2026-11-17", "李娜"]], encoding="gb18030")
    assert roster_import.import_roster(path, community).created == 1


def test_import_refuses_a_file_without_the_needed_columns(people, tmp_path):
    community = people[0]
    path = _write_csv(tmp_path / "bad.csv", [["姓名"], ["张伟"]])
    with pytest.raises(roster.RosterError, match="日期"):
        roster_import.import_roster(path, community)
    with pytest.raises(roster.RosterError, match="xlsx or .csv"):
        roster_import.import_roster(_write_csv(tmp_path / "roster.txt", [["x"]]), community)
    empty = _write_csv(tmp_path / "empty.csv", [])
    with pytest.raises(roster.RosterError, match="empty"):
        roster_import.import_roster(empty, community)


def test_ambiguous_names_must_be_given_as_phone_numbers(people, tmp_path):
    community = people[0]
    f.staff(roles=("duty",), community=community, name="张伟", phone="13900000009")
    db.session.commit()
    path = _write_csv(tmp_path / "r.csv", [["日期", "值班人员"], ["2026-11-17", "张伟"], ["2026-11-18", "13900000009"]])
    result = roster_import.import_roster(path, community)
    assert result.created == 1
    assert "请改填手机号" in result.errors[0].message
