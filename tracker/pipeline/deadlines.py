"""Deadlines (完成时限) as documents write them, and the year relative ones fall in.

Two readers, because the same words mean different things in two places:
- `find_deadline` reads task text, where only explicit time phrases count: 持续推进 there is
  a verb, and a bare 2023年12月 is usually a date something happened;
- `parse_limit` reads a value someone wrote *as* a deadline (a 完成时限 column, label line or
  unit note), where 2024年12月, a range and 长期坚持 are all deadlines.
"""

import calendar
import re
from datetime import date
from functools import lru_cache

_CN_YEAR_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_QUARTERS = "一二三四"

# Numbers, 去/明/上 and the like before 年内/年底 make a span (5年内, 两年内) or another
# year (去年底), not this year's end.
_NOT_THIS_YEAR = r"(?<![\d０-９一二三四五六七八九十两几多半去前明上后每])"
_YEAR = r"(?:(?P<{0}>\d{{4}})年|(?P<{0}n>明年))"

_BODY = re.compile(
    r"(?P<y>\d{4})年(?:年底|底|末)前?"
    rf"|{_YEAR.format('ym')}?(?P<m>\d{{1,2}})月(?:底前?|末前?|份?前|(?P<d>\d{{1,2}})日前)"
    rf"|{_YEAR.format('yq')}?(?:第(?P<q>[一二三四1-4])季度(?:末|底)?前?"
    r"|(?P<q2>[一二三四1-4])季度(?:末|底)前?)"
    rf"|{_YEAR.format('yh')}?(?P<h>[上下])半年"
    r"|明年(?P<mx>\d{1,2})月(?:份|底|末)?前?"
    r"|(?P<next>明年(?:年底|底|末)?前?)"
    rf"|{_NOT_THIS_YEAR}(?P<rel>今年(?:年底|底|年末|末)前?|(?:本年度?)?(?:年底|年末)前?"
    r"|(?:今年|本年度?)内|年内)"
)

# What a 完成时限 value may hold besides the body phrases: full dates in any notation, a
# bare year-month or year, and the end of a range (2024年6月—12月).
_LIMIT = re.compile(
    r"(?P<fy>\d{4})\s*[年./-]\s*(?P<fm>\d{1,2})\s*[月./-]\s*(?P<fd>\d{1,2})日?"
    r"|(?P<by>\d{4})\s*(?:年\s*(?P<bm>\d{1,2})\s*月(?:份|底|末)?|[./-]\s*(?P<bm2>\d{1,2})(?!\d))"
    r"|(?P<yo>\d{4})年(?!\d)"
    r"|(?P<mo>\d{1,2})月(?:份|底|末)?"
)
_LONG_TERM = re.compile(
    r"长期(?:坚持|推进|开展|执行)?|持续(?:推进|开展|实施|坚持)?|常态化(?:推进|开展)?"
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year_of(m: re.Match, name: str, year: int) -> int:
    if m.group(name):
        return int(m.group(name))
    return year + 1 if m.group(name + "n") else year


def _body_date(m: re.Match, year: int) -> date:
    if m.group("y"):
        return date(int(m.group("y")), 12, 31)
    if m.group("m"):
        y, month = _year_of(m, "ym", year), int(m.group("m"))
        if m.group("d"):
            return date(y, month, int(m.group("d")))
        return _month_end(y, month)
    q = m.group("q") or m.group("q2")
    if q:
        quarter = int(q) if q.isdigit() else _QUARTERS.index(q) + 1
        return _month_end(_year_of(m, "yq", year), 3 * quarter)
    if m.group("h"):
        y = _year_of(m, "yh", year)
        return date(y, 6, 30) if m.group("h") == "上" else date(y, 12, 31)
    if m.group("mx"):
        return _month_end(year + 1, int(m.group("mx")))
    if m.group("next"):
        return date(year + 1, 12, 31)
    return date(year, 12, 31)


def find_deadline(text: str, year: int) -> tuple[date | None, str]:
    """The first explicit time phrase in task text as (date, phrase), or (None, "")."""
    for m in _BODY.finditer(text):
        try:
            return _body_date(m, year), m.group()
        except ValueError:  # 13月底前 and the like: not a date, look further
            continue
    return None, ""


# A document's limits repeat (年底前, 2024年6月底前 on row after row): each is read once.
@lru_cache(maxsize=1024)
def parse_limit(value: str, year: int) -> tuple[date | None, bool]:
    """A value written as a deadline: (the latest date it names, long-term).

    The latest, because a limit that names two dates (2024年6月—12月, 6月底前完成方案,
    12月底前全面完成) is met only at the second. No date and 长期/持续/常态化 is long-term.
    """
    # 明年6月: the bare-month reading below needs the year spelled out
    value = value.replace("明年", f"{year + 1}年").replace("今年", f"{year}年")
    found: list[date] = []
    covered = [False] * len(value)
    for m in _BODY.finditer(value):
        try:
            found.append(_body_date(m, year))
        except ValueError:
            continue
        covered[m.start() : m.end()] = [True] * (m.end() - m.start())
    context = year
    for m in _LIMIT.finditer(value):
        if any(covered[m.start() : m.end()]):
            # a body phrase already read this; its year still dates a later bare month
            head = re.match(r"\d{4}", value[m.start() :])
            if head:
                context = int(head.group())
            continue
        try:
            if m.group("fy"):
                context = int(m.group("fy"))
                found.append(date(context, int(m.group("fm")), int(m.group("fd"))))
            elif m.group("by"):
                context = int(m.group("by"))
                found.append(_month_end(context, int(m.group("bm") or m.group("bm2"))))
            elif m.group("yo"):
                context = int(m.group("yo"))
                found.append(date(context, 12, 31))
            else:
                found.append(_month_end(context, int(m.group("mo"))))
        except ValueError:
            continue
    if found:
        return max(found), False
    return None, _LONG_TERM.search(value) is not None


def is_time_phrase(text: str) -> bool:
    """A segment of a note that only says when: 2024年底前完成, 长期坚持, 6月底前."""
    core = re.sub(r"(?:前|之前|以前)?(?:完成|办结|落实到位|到位|建成|实现)?$", "", text.strip())
    if not core:
        return False
    if _LONG_TERM.fullmatch(core):
        return True
    rest = _LIMIT.sub("", _BODY.sub("", core))
    return rest != core and re.fullmatch(r"[\s至到—–\-~～、,，前底末份起止]*", rest) is not None


# --- the document's year -------------------------------------------------------------------

# A line that is only a date: the 成文日期 at the end of a notice.
_DATE_LINE = re.compile(
    r"^\s*(\d{4}|[〇○零一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月"
    r"[\d一二三四五六七八九十]{1,3}日\s*$",
    re.MULTILINE,
)
# 文号: 民发〔2023〕12号, 政办发[2024]3号.
_DOC_NUMBER = re.compile(r"[〔\[［(（](\d{4})[〕\]］)）]\s*\d{1,4}\s*号")
_TITLE_YEAR = re.compile(r"(\d{4})年")
# A date something was written or happened on: 2024年3月5日 (not a deadline: 3月15日前).
_FULL_DATE = re.compile(r"(\d{4})年\d{1,2}月\d{1,2}日(?!前)")


def document_year(text: str, title: str, today: date) -> int:
    """The year relative deadlines (6月底前, 年内) fall in.

    A year the title names (2024年工作要点: issued in late 2023, it still means 2024), else
    the date line, else the 文号, else the first full date in the text, else this year.
    """
    for pattern, source in (
        (_TITLE_YEAR, title),
        (_DATE_LINE, text),
        (_DOC_NUMBER, text),
        (_FULL_DATE, text),
    ):
        m = pattern.search(source)
        if m:
            return int(m.group(1).translate(_CN_YEAR_DIGITS))
    return today.year
