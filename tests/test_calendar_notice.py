"""Reading the State Council's notice as published: the 2024, 2025 and 2026 notices agree day by day
with the chinesecalendar package, the other published forms are read, and every kind of doubt is a
problem with its line number."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from app.calendar_notice import NoticeError, parse_notice
from app.workcal import WorkCalendar

NOTICES = Path(__file__).parent / "data" / "holiday_notices"
ENGLISH = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Tomb-sweeping Day",
           "劳动节": "Labour Day", "端午节": "Dragon Boat Festival", "中秋节": "Mid-autumn Festival",
           "国庆节": "National Day"}
TITLE = "国务院办公厅关于2027年部分节假日安排的通知\n"
# A 2027 notice for the tests (not the published one): the 2024-rule days, two make-up days.
NOTICE_2027 = TITLE + """
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至11日（农历正月初六、周四）放假调休，共7天。2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。
"""


def _year(day: date) -> list[date]:
    return [day + timedelta(days=i) for i in range((date(day.year + 1, 1, 1) - day).days)]


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_published_notice_agrees_with_the_package_day_by_day(year):
    notice = parse_notice((NOTICES / f"{year}.txt").read_text(encoding="utf-8"))
    assert notice.year == year and notice.warnings == ()
    # The notice's overrides over the law and weekends alone, as for a year the package does not know.
    calendar = WorkCalendar({d: w for d, (w, _) in notice.overrides().items()}, use_package=False)
    wrong = [d for d in _year(date(year, 1, 1)) if calendar.is_workday(d) != chinese_calendar.is_workday(d)]
    assert wrong == []
    # Each weekday off belongs to the holiday the package names.
    for holiday in notice.holidays:
        for day in holiday.days_off:
            name = chinese_calendar.holidays.get(day)
            if name and day.weekday() < 5:
                assert name in {ENGLISH[n] for n in holiday.names}, (day, holiday.names, name)
        for day in holiday.workdays:
            assert chinese_calendar.workdays.get(day) in {ENGLISH[n] for n in holiday.names}, day


def test_what_was_understood_of_2025():
    notice = parse_notice((NOTICES / "2025.txt").read_text(encoding="utf-8"))
    by_name = {h.label: h for h in notice.holidays}
    assert list(by_name) == ["元旦", "春节", "清明节", "劳动节", "端午节", "国庆节、中秋节"]
    spring = by_name["春节"]
    assert (spring.days_off[0], spring.days_off[-1], len(spring.days_off)) == (date(2025, 1, 28), date(2025, 2, 4), 8)
    assert spring.workdays == (date(2025, 1, 26), date(2025, 2, 8))
    assert spring.line == 9
    assert notice.overrides()[date(2025, 2, 8)] == (True, "2025年通知：春节调休上班")
    assert notice.overrides()[date(2025, 10, 6)] == (False, "2025年通知：国庆节、中秋节")


def test_weekend_joins_and_advice_sentences_of_2024():
    notice = parse_notice((NOTICES / "2024.txt").read_text(encoding="utf-8"))
    new_year, dragon = notice.holidays[0], notice.holidays[4]
    # "1月1日放假，与周末连休": Monday with the weekend before it (in 2023).
    assert new_year.days_off == (date(2023, 12, 30), date(2023, 12, 31), date(2024, 1, 1))
    assert dragon.days_off == (date(2024, 6, 8), date(2024, 6, 9), date(2024, 6, 10))
    # "鼓励……安排职工在除夕（2月9日）休息" advises; 2-9 stays a working day.
    assert date(2024, 2, 9) not in notice.overrides()


def test_the_2023_forms_a_range_across_years_and_months():
    text = """国务院办公厅关于2023年部分节假日安排的通知
一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。
二、春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。
三、清明节：4月5日放假，共1天。
四、劳动节：4月29日至5月3日放假调休，共5天。4月23日（星期日）、5月6日（星期六）上班。
五、端午节：6月22日至24日放假调休，共3天。6月25日（星期日）上班。
六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。"""
    notice = parse_notice(text)
    calendar = WorkCalendar({d: w for d, (w, _) in notice.overrides().items()}, use_package=False)
    assert [d for d in _year(date(2023, 1, 1)) if calendar.is_workday(d) != chinese_calendar.is_workday(d)] == []
    assert notice.holidays[0].days_off[0] == date(2022, 12, 31)
    assert notice.holidays[5].days_off == tuple(date(2023, 9, 29) + timedelta(days=i) for i in range(8))


def test_full_width_half_width_and_the_year_from_the_opening_sentence():
    text = ("经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。\n"
            + NOTICE_2027.replace(TITLE, "").replace("（", "(").replace("）", ")").replace("：", ":"))
    notice = parse_notice(text)
    assert notice.year == 2027 and len(notice.holidays) == 7
    assert notice.holidays[1].workdays == (date(2027, 2, 20),)


def test_a_make_up_day_that_is_already_a_weekday_is_a_warning_not_an_error():
    text = NOTICE_2027.replace("一、元旦：1月1日（周五）至3日（周日）放假，共3天。",
                               "一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。1月4日（周一）上班。")
    notice = parse_notice(text)
    assert [(w.line, w.reason) for w in notice.warnings] == [(3, "2027年1月4日本来就是工作日")]


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(NoticeError) as caught:
        parse_notice(text)
    error = caught.value
    assert error.field == "text" and error.body()["error"]["problems"]
    return [(p.line, p.reason) for p in error.problems]


def test_a_wrong_weekday_is_reported_on_its_line():
    problems = _problems(NOTICE_2027.replace("5月1日（周六）", "5月1日（周五）"))
    assert problems == [(6, "2027年5月1日是周六，通知写的是周五")]


def test_a_count_that_does_not_match_the_days():
    assert _problems(NOTICE_2027.replace("共7天。2月20日", "共8天。2月20日")) == [
        (4, "写的是共8天，但列出的放假日期是7天")]


def test_a_wrong_lunar_remark():
    assert _problems(NOTICE_2027.replace("农历正月初六", "农历正月初七")) == [(4, "2027年2月11日不是农历正月初七")]
    assert _problems(NOTICE_2027.replace("2月5日（农历除夕", "2月4日（农历除夕").replace("、周五）至11日", "、周四）至11日")
                     .replace("共7天。2月20日", "共8天。2月20日")) == [(4, "2027年2月4日不是农历除夕")]


def test_a_holiday_that_misses_its_statutory_day():
    # 春节 from 初一: 除夕 2027-02-05 is a statutory day under the 2024 rules.
    text = NOTICE_2027.replace("2月5日（农历除夕、周五）至11日（农历正月初六、周四）放假调休，共7天",
                               "2月6日（农历正月初一、周六）至11日（农历正月初六、周四）放假调休，共6天")
    assert _problems(text) == [(4, "春节的法定假日2027年2月5日不在这一行的放假日期里")]


def test_a_missing_line_unknown_names_and_unreadable_lines():
    text = NOTICE_2027.replace("六、中秋节：9月15日（周三）放假1天，不调休。\n", "")
    assert _problems(text) == [(len(text.splitlines()), "通知没有提到中秋节：是不是少复制了一行？")]
    assert (4, "“圣诞节”不是法定节假日的名称") in _problems(NOTICE_2027.replace("二、春节", "二、圣诞节"))
    # A line broken in two when copied: the second half is reported, not guessed.
    wrapped = NOTICE_2027.replace("放假调休，共5天。4月25日", "放假调休，共5天。\n4月25日")
    assert _problems(wrapped) == [(7, "看不懂这一行：节假日条目应写成“一、元旦：1月1日放假……”")]


def test_days_in_conflict():
    both = NOTICE_2027.replace("2月20日（周六）上班", "2月7日（周日）上班")
    assert _problems(both) == [(4, "2027年2月7日在第4行已经出现过，不能再上班")]
    twice = NOTICE_2027.replace("六、中秋节：9月15日（周三）", "六、中秋节：10月1日（周五）")
    assert (9, "2027年10月1日在第8行已经放假") in _problems(twice)


def test_impossible_dates_and_years():
    assert _problems(NOTICE_2027.replace("4月25日（周日）", "2月30日（周日）")) == [(6, "“2月30日(周日)”不是有效的日期")]
    assert _problems(NOTICE_2027.replace("4月25日（周日）", "2029年4月25日（周日）")) == [
        (6, "2029年4月25日不在2027年的通知范围内")]
    assert _problems(NOTICE_2027.replace(TITLE, "")) == [
        (1, "找不到年份：请连同标题“国务院办公厅关于YYYY年部分节假日安排的通知”一起导入")]
    assert _problems("国务院办公厅关于2027年部分节假日安排的通知\n现将2028年元旦……") == [
        (2, "年份2028与第1行的2027年不一致")]
    assert _problems(TITLE + "各地区、各部门要妥善安排好值班。") == [(2, "没有找到节假日条目（“一、元旦：……”）")]


def test_every_problem_is_listed_at_once():
    text = NOTICE_2027.replace("5月1日（周六）", "5月1日（周五）").replace("共7天。2月20日", "共8天。2月20日")
    assert [line for line, _ in _problems(text)] == [4, 6]
