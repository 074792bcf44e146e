"""Calendars: the month page of deadlines, report due dates and 回头看, and each person's
iCalendar feed.

Dates are worked out here from rows fetched in one query per list; no measure costs a query
of its own. Report due dates follow the rule of the warning lights (lights.due_dates_before),
so the calendar never promises a date the 未按时报送 check does not use.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from . import lights
from .models import Measure, open_q

# A day cell lists this many entries; the rest are behind "还有 N 项".
DAY_CAP = 4
# The feed: report due dates this far ahead, deadlines this far back (overdue ones still
# matter), and at most this many events in all, so a calendar client never chokes on it.
FEED_DAYS_AHEAD = 90
FEED_DAYS_BACK = 365
FEED_CAP = 2000
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")

DEADLINE, REPORT, RECHECK = "deadline", "report", "recheck"
LABELS = {DEADLINE: "完成时限", REPORT: "报送进展", RECHECK: "回头看"}
ORDER = {DEADLINE: 0, REPORT: 1, RECHECK: 2}


@dataclass(frozen=True)
class Entry:
    day: date
    kind: str
    measure_id: int
    title: str
    overdue: bool = False
    unit: str = ""

    @property
    def label(self):
        return LABELS[self.kind]

    @property
    def sort_key(self):
        return (self.day, ORDER[self.kind], self.title, self.measure_id)


@dataclass
class Day:
    date: date
    in_month: bool
    is_today: bool
    entries: list = field(default_factory=list)

    @property
    def shown(self):
        return self.entries[:DAY_CAP]

    @property
    def more(self):
        return max(len(self.entries) - DAY_CAP, 0)


@dataclass
class Month:
    first: date
    weeks: list
    selected: Day | None

    @property
    def label(self):
        return f"{self.first.year}年{self.first.month}月"

    @property
    def value(self):
        return f"{self.first:%Y-%m}"

    @property
    def previous(self):
        return f"{self.first - timedelta(days=1):%Y-%m}"

    @property
    def next(self):
        return f"{self.first + timedelta(days=31):%Y-%m}"

    @property
    def total(self):
        return sum(len(d.entries) for week in self.weeks for d in week if d.in_month)


def parse_month(raw, today):
    """The first day of ?month=YYYY-MM; this month when absent. ValueError when malformed."""
    if not raw:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in raw.split("-"))
        # Bounded so that the previous and next months still exist.
        if not 1900 <= year <= 2200:
            raise ValueError
        return date(year, month, 1)
    except ValueError:
        raise ValueError("月份格式应为 YYYY-MM，例如 2026-11。") from None


def parse_day(raw, first):
    """?day=YYYY-MM-DD when it falls in the month shown, else None."""
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        return None
    return day if (day.year, day.month) == (first.year, first.month) else None


def month_end(first):
    return lights.clamp_day(first.year, first.month, 31)


def entries_between(measures, start, end, today):
    """Deadlines of open measures and 回头看 of closed ones dated start..end, and the report
    due dates of open measures from today (or start, if later) to end: one query.

    `measures` is any Measure queryset, e.g. the ledger's filtered one.
    """
    reports_from = max(start, today)
    wanted = (open_q() & Q(deadline__range=(start, end))) | Q(
        status=Measure.Status.DONE, recheck_on__range=(start, end)
    )
    if reports_from <= end:
        wanted |= open_q() & ~Q(report_cadence="") & Q(report_day__isnull=False)
    rows = (
        measures.filter(wanted)
        .prefetch_related(None)
        .order_by()
        .values_list(
            "pk", "title", "status", "deadline", "report_cadence", "report_day", "recheck_on"
        )
    )
    entries = []
    for pk, title, status, deadline, cadence, report_day, recheck_on in rows:
        is_open = status not in Measure.CLOSED_STATUSES
        if is_open and deadline and start <= deadline <= end:
            entries.append(Entry(deadline, DEADLINE, pk, title, overdue=deadline < today))
        if is_open and cadence:
            for due in lights.report_due_dates(cadence, report_day, reports_from, end):
                entries.append(Entry(due, REPORT, pk, title))
        if status == Measure.Status.DONE and recheck_on and start <= recheck_on <= end:
            entries.append(Entry(recheck_on, RECHECK, pk, title, overdue=recheck_on < today))
    return sorted(entries, key=lambda e: e.sort_key)


def month_view(measures, first, today, selected=None):
    """The month grid (weeks from Monday) with each day's entries, for the measures given."""
    end = month_end(first)
    by_day = {}
    for entry in entries_between(measures, first, end, today):
        by_day.setdefault(entry.day, []).append(entry)
    weeks = [
        [
            Day(
                d,
                in_month=d.month == first.month,
                is_today=d == today,
                entries=by_day.get(d, []) if d.month == first.month else [],
            )
            for d in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    chosen = None
    if selected is not None:
        chosen = next(d for week in weeks for d in week if d.date == selected and d.in_month)
    return Month(first=first, weeks=weeks, selected=chosen)


# The iCalendar feed ----------------------------------------------------------------------


def feed_measures(user):
    """Whose deadlines a feed carries: a supervisor's, every open measure; anyone else's,
    the open measures they own."""
    measures = Measure.objects.open()
    return measures if user.is_supervisor else measures.filter(owner=user)


def feed_entries(user, today):
    """Deadlines (from a year back) and report due dates (the next 90 days): at most FEED_CAP,
    the ones nearest to today kept when there are more. Three queries."""
    measures = feed_measures(user).order_by()
    fields = ("pk", "title", "deadline", "unit__name")
    upcoming = measures.filter(deadline__gte=today).order_by("deadline", "pk")
    past = measures.filter(
        deadline__lt=today, deadline__gte=today - timedelta(days=FEED_DAYS_BACK)
    ).order_by("-deadline", "-pk")
    deadlines = [
        Entry(deadline, DEADLINE, pk, title, overdue=deadline < today, unit=unit or "")
        for rows in (upcoming, past)
        for pk, title, deadline, unit in rows.values_list(*fields)[:FEED_CAP]
    ]
    end = today + timedelta(days=FEED_DAYS_AHEAD)
    cycles = (
        measures.exclude(report_cadence="")
        .filter(report_day__isnull=False)
        .order_by("pk")
        .values_list("pk", "title", "report_cadence", "report_day", "unit__name")[:FEED_CAP]
    )
    reports = [
        Entry(due, REPORT, pk, title, unit=unit or "")
        for pk, title, cadence, day, unit in cycles
        for due in lights.report_due_dates(cadence, day, today, end)
    ]
    nearest = sorted(deadlines + reports, key=lambda e: (abs((e.day - today).days), e.sort_key))
    return sorted(nearest[:FEED_CAP], key=lambda e: e.sort_key)


def entry_uid(entry):
    # Stable across fetches, so a calendar client updates an event instead of adding one.
    if entry.kind == REPORT:
        return f"measure-{entry.measure_id}-report-{entry.day:%Y%m%d}@ducha"
    return f"measure-{entry.measure_id}-{entry.kind}@ducha"


def feed_ics(user, today):
    """The person's feed as iCalendar bytes: one all-day VEVENT per entry."""
    cal = Calendar()
    cal.add("prodid", "-//督办台账//日历订阅//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"督办台账 · {user}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    for entry in feed_entries(user, today):
        event = Event()
        event.add("uid", entry_uid(entry))
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + timedelta(days=1))
        event.add("summary", f"{entry.label}：{entry.title}")
        if entry.unit:
            event.add("description", f"牵头单位：{entry.unit}")
        event.add("url", settings.SITE_URL + reverse("measure_detail", args=[entry.measure_id]))
        event.add("transp", "TRANSPARENT")  # a due date, not a meeting: never shown as busy
        cal.add_component(event)
    return cal.to_ical()
