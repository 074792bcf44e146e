"""Warning lights (亮灯) and reporting cycles (报送周期): computed, never stored.

Pure functions of a measure's dates, status and latest report, so the ledger, the dashboard,
the reminders and the Excel export all agree. Thresholds come from settings:

- DUE_SOON_DAYS (default 7): 蓝灯 when the deadline is this close.
- LIGHT_PACE_GAP (default 30): 黄灯 when percent complete trails the share of time elapsed
  between assignment and deadline by more than this many percentage points.
A missing periodic report (未按时报送) also turns a measure 黄灯.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.db import models


class Light(models.TextChoices):
    RED = "red", "红灯"
    YELLOW = "yellow", "黄灯"
    UNASSIGNED = "unassigned", "待交办"
    BLUE = "blue", "蓝灯"
    GREEN = "green", "绿灯"
    DONE = "done", "已办结"
    PAUSED = "paused", "暂缓"


# A light as one letter: the database tallies a group's lights as a string of these
# (models.LightLetters), so a count by light needs no sort over every measure.
BY_LETTER = {light.value[0]: light for light in Light}
assert len(BY_LETTER) == len(Light), "each light needs its own first letter"


def tally(letters):
    """{Light: measures} from a LightLetters string."""
    return {light: n for letter, light in BY_LETTER.items() if (n := letters.count(letter))}


# Excel fills and CSS classes use the same colours.
COLOURS = {
    Light.RED: "F4C7C3",
    Light.YELLOW: "FCE8B2",
    Light.BLUE: "C6DAFC",
    Light.GREEN: "B7E1CD",
    Light.UNASSIGNED: "D9D2E9",
    Light.DONE: "E6E6E6",
    Light.PAUSED: "EEEEEE",
}


@dataclass(frozen=True)
class Thresholds:
    soon_days: int = 7
    pace_gap: int = 30

    @classmethod
    def from_settings(cls):
        from django.conf import settings

        return cls(settings.DUE_SOON_DAYS, settings.LIGHT_PACE_GAP)


def as_date(value):
    """Timestamps are compared by their Asia/Shanghai calendar day."""
    if isinstance(value, datetime):
        from django.utils import timezone

        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


# Every reporting cycle there is: the day a report is due, per cadence.
CYCLE_DAYS = {"weekly": range(1, 8), "monthly": range(1, 29), "quarterly": range(1, 29)}


def is_due_soon(deadline, today, soon_days):
    """Due soon: the deadline is today or within `soon_days` days (models.due_soon_q in SQL)."""
    return deadline is not None and 0 <= (deadline - today).days <= soon_days


def clamp_day(year, month, day):
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_dates_before(cadence, day, today):
    """The two most recent report due dates strictly before today: (latest, previous).

    A report is due *by* its due date, so it is missing from the day after.
    weekly: ISO weekday `day` (1 = Monday); monthly: day `day` of every month;
    quarterly: day `day` of the last month of each quarter (3, 6, 9, 12).
    """
    if cadence == "weekly":
        back = (today.isoweekday() - day - 1) % 7 + 1
        latest = today - timedelta(days=back)
        return latest, latest - timedelta(days=7)
    report_months = range(1, 13) if cadence == "monthly" else (3, 6, 9, 12)
    found = []
    year, month = today.year, today.month
    while len(found) < 2:
        if month in report_months:
            candidate = clamp_day(year, month, day)
            if candidate < today:
                found.append(candidate)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[0], found[1]


@lru_cache(maxsize=512)
def report_due_dates(cadence, day, start, end):
    """Every due date of a reporting cycle from `start` to `end`, both included, oldest first.

    Walks back from the day after `end` with due_dates_before, two dates a step, so
    weekly, monthly and quarterly cycles (and short months) follow the one rule there is.
    Cached: 63 cycles at most, however many measures share them.
    """
    if not cadence or day is None or end < start:
        return ()
    found = []
    cursor = end + timedelta(days=1)
    while True:
        latest, previous = due_dates_before(cadence, day, cursor)
        for due in (latest, previous):
            if due < start:
                return tuple(reversed(found))
            found.append(due)
        cursor = previous


def next_due_date(cadence, day, today):
    """The next report due date, today included; None without a cycle."""
    ahead = report_due_dates(cadence, day, today, today + timedelta(days=92))  # a quarter
    return ahead[0] if ahead else None


def report_missing(cadence, day, last_report, assigned_on, today):
    """未按时报送: the report for the latest finished period was not filed.

    The period ending on `latest` runs from the day after `previous`; any report filed after
    `previous` (even late) counts. A measure assigned inside that period owes its first
    report at the next due date.

    This is the rule for one measure (its 黄灯). Counts and lists of measures use its SQL
    form, `Measure.objects.report_missing(today)`, which also leaves out closed measures.
    """
    if not cadence or day is None or assigned_on is None:
        return False
    latest, previous = due_dates_before(cadence, day, today)
    if as_date(assigned_on) > previous:
        return False
    return last_report is None or as_date(last_report) <= previous


def behind_pace(assigned_on, deadline, percent, today, gap):
    if assigned_on is None or deadline is None:
        return False
    start = as_date(assigned_on)
    span = (deadline - start).days
    if span <= 0:
        return False
    elapsed = min(max((today - start).days, 0), span) * 100 / span
    return elapsed - (percent or 0) > gap


def light(
    *,
    status,
    deadline,
    today,
    assigned_at=None,
    percent=None,
    last_report=None,
    cadence="",
    report_day=None,
    assigned=True,
    thresholds=Thresholds(),
):
    """`assigned`: the measure has both an owner and a lead unit. One without is 待交办 (it
    waits for a supervisor) unless it is already overdue or late with a report."""
    if status == "done":
        return Light.DONE
    if status == "suspended":
        return Light.PAUSED
    if deadline is not None and deadline < today:
        return Light.RED
    if report_missing(cadence, report_day, last_report, assigned_at, today) or behind_pace(
        assigned_at, deadline, percent, today, thresholds.pace_gap
    ):
        return Light.YELLOW
    if not assigned:
        return Light.UNASSIGNED
    if is_due_soon(deadline, today, thresholds.soon_days):
        return Light.BLUE
    return Light.GREEN


def light_of(measure, today, thresholds=None):
    """The light of a Measure from `for_ledger()`, which carries its latest report."""
    return light(
        status=measure.status,
        deadline=measure.deadline,
        today=today,
        assigned_at=measure.assigned_at,
        percent=measure.latest_percent,
        last_report=measure.latest_progress_at,
        cadence=measure.report_cadence or "",
        report_day=measure.report_day,
        assigned=measure.owner_id is not None and measure.unit_id is not None,
        thresholds=thresholds or Thresholds.from_settings(),
    )
