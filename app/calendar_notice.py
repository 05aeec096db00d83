"""Reading the State Council's holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知) as published.

Each November the notice lists next year's holidays, one numbered line each::

    一、元旦：1月1日（周三）放假1天，不调休。
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
    一、元旦：1月1日放假，与周末连休。

The reader checks everything the text says about itself: weekdays and 农历
remarks against the date, "共N天" against the days counted, every statutory day
of a named holiday (app/holidays.py) inside its days off, every holiday of the
law mentioned, no day both off and at work. Any doubt is a ``Problem`` with
its line number; a notice with a problem is not applied at all (the caller
decides what to do with a valid one). Pure: no database, no Flask.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from app import holidays
from app.errors import DomainError

WEEKDAYS = "一二三四五六日"
NAMES = {"元旦": holidays.NEW_YEAR, "春节": holidays.SPRING_FESTIVAL, "清明节": holidays.TOMB_SWEEPING,
         "清明": holidays.TOMB_SWEEPING, "劳动节": holidays.LABOUR_DAY, "五一劳动节": holidays.LABOUR_DAY,
         "端午节": holidays.DRAGON_BOAT, "端午": holidays.DRAGON_BOAT, "中秋节": holidays.MID_AUTUMN,
         "中秋": holidays.MID_AUTUMN, "国庆节": holidays.NATIONAL_DAY, "国庆": holidays.NATIONAL_DAY}
NUMERALS = "〇一二三四五六七八九十"

YEAR = re.compile(r"关于\s*(\d{4})\s*年部分节假日安排|现将\s*(\d{4})\s*年")
ITEM = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*(?P<names>[^:]{1,20}?)\s*:\s*(?P<body>.*)$")
LOOKS_LIKE_ITEM = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]")
DATE = re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?:(?P<m>\d{1,2})\s*月\s*)?(?P<d>\d{1,2})\s*日(?:\s*\((?P<note>[^)]*)\))?")
ANY_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日")
TOTAL = re.compile(r"共\s*([0-9一二三四五六七八九十]+)\s*天")
OFF_COUNT = re.compile(r"放假\s*([0-9一二三四五六七八九十]+)\s*天")
WEEKDAY_NOTE = re.compile(r"(?:周|星期)([一二三四五六日天])")
LUNAR_NOTE = re.compile(r"农历\s*(除夕|(闰?)([正一二三四五六七八九十冬腊]{1,2})月\s*"
                        r"(初[一二三四五六七八九十]|廿[一二三四五六七八九]|二十[一二三四五六七八九]?|三十|十[一二三四五六七八九]?))")
LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"第{self.line}行：{self.reason}"


class NoticeError(DomainError):
    """The notice cannot be applied: every problem found, by line."""

    code = "invalid_notice"

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        summary = "；".join(str(p) for p in self.problems[:5])
        more = f"（另有{len(self.problems) - 5}处）" if len(self.problems) > 5 else ""
        super().__init__(f"通知无法导入：{summary}{more}", field="text", extra={
            "problems": [{"line": p.line, "reason": p.reason} for p in self.problems]})


@dataclass(frozen=True)
class NoticeHoliday:
    names: tuple[str, ...]          # one holiday, or two sharing a break ("国庆节、中秋节")
    line: int
    days_off: tuple[date, ...]
    workdays: tuple[date, ...]      # make-up working days (调休上班)

    @property
    def label(self) -> str:
        return "、".join(self.names)


@dataclass(frozen=True)
class Notice:
    year: int
    holidays: tuple[NoticeHoliday, ...]
    warnings: tuple[Problem, ...] = ()

    def overrides(self) -> dict[date, tuple[bool, str]]:
        """Every day the notice decides: day → (is_workday, note for the override)."""
        found: dict[date, tuple[bool, str]] = {}
        for holiday in self.holidays:
            for day in holiday.days_off:
                found[day] = (False, f"{self.year}年通知：{holiday.label}")
            for day in holiday.workdays:
                found[day] = (True, f"{self.year}年通知：{holiday.label}调休上班")
        return dict(sorted(found.items()))


@dataclass
class _Reading:
    year: int
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def parse_notice(text: str) -> Notice:
    """The notice's holidays and make-up days; raises NoticeError listing every problem."""
    lines = [unicodedata.normalize("NFKC", raw).strip() for raw in text.lstrip("\ufeff").splitlines()]
    year, problems = _find_year(lines)
    if year is None:
        raise NoticeError(problems)
    reading = _Reading(year, problems)
    items = []
    for number, line in enumerate(lines, start=1):
        match = ITEM.match(line)
        if match:
            item = _read_item(reading, number, match.group("names"), match.group("body"))
            if item is not None:
                items.append(item)
        elif LOOKS_LIKE_ITEM.match(line) or (ANY_DATE.search(line) and ("放假" in line or "上班" in line)):
            reading.problems.append(Problem(number, "看不懂这一行：节假日条目应写成“一、元旦：1月1日放假……”"))
    _check_notice(reading, items, len(lines))
    if reading.problems:
        raise NoticeError(reading.problems)
    return Notice(year, tuple(items), tuple(reading.warnings))


def _find_year(lines: list[str]) -> tuple[int | None, list[Problem]]:
    found: list[tuple[int, int]] = []
    for number, line in enumerate(lines, start=1):
        for match in YEAR.finditer(line):
            found.append((number, int(match.group(1) or match.group(2))))
    if not found:
        return None, [Problem(1, "找不到年份：请连同标题“国务院办公厅关于YYYY年部分节假日安排的通知”一起导入")]
    first_line, year = found[0]
    problems = [Problem(number, f"年份{other}与第{first_line}行的{year}年不一致")
                for number, other in found[1:] if other != year]
    if not holidays.FIRST_YEAR <= year <= 2999:
        problems.append(Problem(first_line, f"{year}年不在可导入的范围内（{holidays.FIRST_YEAR}–2999）"))
    return (None if problems else year), problems


def _read_item(reading: _Reading, number: int, names_text: str, body: str) -> NoticeHoliday | None:
    names = []
    for raw in re.split(r"[、和及]", names_text):
        name = NAMES.get(raw.strip())
        if name is None:
            reading.problems.append(Problem(number, f"“{raw.strip()}”不是法定节假日的名称"))
            return None
        names.append(name)
    days_off: list[date] = []
    workdays: list[date] = []
    for sentence in re.split(r"[。;；]", body):
        has_off, has_work = "放假" in sentence, "上班" in sentence
        if has_off and has_work:
            reading.problems.append(Problem(number, f"一句话里既有放假又有上班，无法判断：“{sentence}”"))
        elif has_off:
            days_off += _read_days_off(reading, number, sentence)
        elif has_work:
            workdays += _read_dates(reading, number, sentence)
        # Other sentences advise (鼓励……安排职工在除夕休息) and change no working day.
    if not days_off:
        reading.problems.append(Problem(number, "这一行没有写放假日期"))
        return None
    return NoticeHoliday(tuple(names), number, tuple(sorted(set(days_off))), tuple(sorted(set(workdays))))


def _read_days_off(reading: _Reading, number: int, sentence: str) -> list[date]:
    spans = _read_spans(reading, number, sentence)
    days = sorted({day for first, last in spans for day in _days(first, last)})
    if not days:
        return []
    if "与周末连休" in sentence:
        while (days[0] - timedelta(days=1)).weekday() >= 5:
            days.insert(0, days[0] - timedelta(days=1))
        while (days[-1] + timedelta(days=1)).weekday() >= 5:
            days.append(days[-1] + timedelta(days=1))
    for pattern in (TOTAL, OFF_COUNT):
        match = pattern.search(sentence)
        if match and _number(match.group(1)) != len(days):
            reading.problems.append(Problem(number, f"写的是{match.group(0)}，但列出的放假日期是{len(days)}天"))
    return days


def _read_dates(reading: _Reading, number: int, sentence: str) -> list[date]:
    return [day for first, last in _read_spans(reading, number, sentence) for day in _days(first, last)]


def _read_spans(reading: _Reading, number: int, sentence: str) -> list[tuple[date, date]]:
    """(first, last) per date or "A至B" range, the year and month carried over from the date before."""
    spans: list[tuple[date, date]] = []
    previous: date | None = None
    previous_end = 0
    for match in DATE.finditer(sentence):
        joined = sentence[previous_end:match.start()].strip() in ("至", "-", "~", "—", "到")
        day = _date_of(reading, number, match, previous)
        previous_end = match.end()
        if day is None:
            return spans
        if joined and spans:
            first = spans[-1][0]
            if day < first:
                reading.problems.append(Problem(number, f"{match.group(0)}早于起始日期{_label(first)}"))
                return spans
            spans[-1] = (first, day)
        else:
            spans.append((day, day))
        previous = day
    if not spans:
        reading.problems.append(Problem(number, f"这句话没有日期：“{sentence}”"))
    return spans


def _date_of(reading: _Reading, number: int, match: re.Match, previous: date | None) -> date | None:
    year = int(match.group("y")) if match.group("y") else (previous.year if previous else reading.year)
    if match.group("m"):
        month = int(match.group("m"))
    elif previous is not None:
        month = previous.month
    else:
        reading.problems.append(Problem(number, f"“{match.group(0)}”没有月份"))
        return None
    try:
        day = date(year, month, int(match.group("d")))
    except ValueError:
        reading.problems.append(Problem(number, f"“{match.group(0)}”不是有效的日期"))
        return None
    if not date(reading.year - 1, 12, 1) <= day <= date(reading.year + 1, 1, 31):
        reading.problems.append(Problem(number, f"{_label(day)}不在{reading.year}年的通知范围内"))
        return None
    _check_remarks(reading, number, day, match.group("note") or "")
    return day


def _check_remarks(reading: _Reading, number: int, day: date, note: str) -> None:
    weekday = WEEKDAY_NOTE.search(note)
    if weekday:
        written = WEEKDAYS.index(weekday.group(1).replace("天", "日"))
        if written != day.weekday():
            reading.problems.append(Problem(
                number, f"{_label(day)}是周{WEEKDAYS[day.weekday()]}，通知写的是周{WEEKDAYS[written]}"))
    lunar = LUNAR_NOTE.search(note)
    if lunar:
        actual = holidays.lunar_day(day)
        if lunar.group(1) == "除夕":
            right = actual.last_of_year
        else:
            month = LUNAR_MONTHS.get(lunar.group(3)) or _number(lunar.group(3))
            right = (actual.month, actual.day, actual.leap) == (month, _lunar_day_number(lunar.group(4)),
                                                               bool(lunar.group(2)))
        if not right:
            reading.problems.append(Problem(number, f"{_label(day)}不是农历{lunar.group(1)}"))


def _check_notice(reading: _Reading, items: list[NoticeHoliday], last_line: int) -> None:
    off: dict[date, NoticeHoliday] = {}
    work: dict[date, NoticeHoliday] = {}
    named: dict[str, int] = {}
    for item in items:
        for name in item.names:
            if name in named:
                reading.problems.append(Problem(item.line, f"{name}在第{named[name]}行已经出现过"))
            named.setdefault(name, item.line)
        for day in item.days_off:
            if day in off:
                reading.problems.append(Problem(item.line, f"{_label(day)}在第{off[day].line}行已经放假"))
            off.setdefault(day, item)
        for day in item.workdays:
            if day in off or day in work:
                other = (off.get(day) or work[day]).line
                reading.problems.append(Problem(item.line, f"{_label(day)}在第{other}行已经出现过，不能再上班"))
            work.setdefault(day, item)
            if day.weekday() < 5:
                reading.warnings.append(Problem(item.line, f"{_label(day)}本来就是工作日"))
    for item in items:
        _check_statutory_days(reading, item, {d for d, i in off.items() if i is item})
    if items:
        missing = [name for name in holidays.HOLIDAYS
                   if name not in named and holidays.holiday_days(reading.year, name)]
        if missing:
            reading.problems.append(Problem(last_line, f"通知没有提到{'、'.join(missing)}：是不是少复制了一行？"))
    elif not reading.problems:
        reading.problems.append(Problem(last_line, "没有找到节假日条目（“一、元旦：……”）"))


def _check_statutory_days(reading: _Reading, item: NoticeHoliday, days_off: set[date]) -> None:
    for name in item.names:
        missing = [d for d in holidays.holiday_days(reading.year, name) if d not in days_off]
        if missing:
            reading.problems.append(Problem(item.line, f"{name}的法定假日{'、'.join(_label(d) for d in missing)}"
                                                       "不在这一行的放假日期里"))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _number(text: str) -> int:
    """1..99 written in digits or in Chinese numerals (十, 十二, 二十, 二十八)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return NUMERALS.index(text)
    tens, _, units = text.partition("十")
    return (NUMERALS.index(tens) if tens else 1) * 10 + (NUMERALS.index(units) if units else 0)


def _lunar_day_number(text: str) -> int:
    """初一..初十, 十一..十九, 二十/廿一..廿九, 三十."""
    if text.startswith("初"):
        return _number(text[1:])
    if text.startswith("廿"):
        return 20 + _number(text[1:])
    return _number(text)
