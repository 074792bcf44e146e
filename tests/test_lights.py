"""Warning lights and reporting cycles at their boundaries."""

from datetime import date, datetime, timedelta

import pytest

from tracker.lights import (
    CYCLE_DAYS,
    Light,
    Thresholds,
    behind_pace,
    due_dates_before,
    is_due_soon,
    light,
    report_missing,
)

TODAY = date(2026, 11, 22)  # a Sunday
RULES = Thresholds(soon_days=7, pace_gap=30)


def at(days):
    return TODAY + timedelta(days=days)


def lit(**kwargs):
    kwargs.setdefault("status", "in_progress")
    kwargs.setdefault("deadline", at(60))
    return light(today=TODAY, thresholds=RULES, **kwargs)


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (at(-1), Light.RED),
        (at(0), Light.BLUE),  # due today is not overdue yet
        (at(7), Light.BLUE),
        (at(8), Light.GREEN),
        (None, Light.GREEN),
    ],
)
def test_deadline_boundaries(deadline, expected):
    assert lit(deadline=deadline) == expected


def test_closed_measures_show_their_state_not_a_colour():
    assert lit(status="done", deadline=at(-30)) == Light.DONE
    assert lit(status="suspended", deadline=at(-30)) == Light.PAUSED


def test_pending_review_is_still_judged_by_its_deadline():
    assert lit(status="pending_review", deadline=at(-1)) == Light.RED


def test_pace_gap_boundary():
    # Assigned 50 days ago, due in 50: half the time is gone.
    start = at(-50)
    assert not behind_pace(start, at(50), 20, TODAY, 30)  # 50 - 20 = 30: not more than the gap
    assert behind_pace(start, at(50), 19, TODAY, 30)
    assert lit(assigned_at=start, deadline=at(50), percent=19) == Light.YELLOW
    assert lit(assigned_at=start, deadline=at(50), percent=20) == Light.GREEN


def test_no_percent_counts_as_zero_and_no_assignment_means_no_pace():
    assert behind_pace(at(-40), at(40), None, TODAY, 30)
    assert not behind_pace(None, at(40), None, TODAY, 30)


def test_yellow_outranks_blue_and_red_outranks_yellow():
    assert lit(assigned_at=at(-90), deadline=at(3), percent=0) == Light.YELLOW
    assert lit(assigned_at=at(-90), deadline=at(-1), percent=0) == Light.RED


def test_aware_timestamps_are_read_in_shanghai():
    from zoneinfo import ZoneInfo

    # 2026-09-22 23:30 UTC is already 2026-09-23 in Shanghai.
    assigned = datetime(2026, 9, 22, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert behind_pace(assigned, date(2027, 1, 1), 0, TODAY, 30)


@pytest.mark.parametrize(
    ("cadence", "day", "latest", "previous"),
    [
        ("weekly", 5, date(2026, 11, 20), date(2026, 11, 13)),  # Fridays
        ("weekly", 7, date(2026, 11, 15), date(2026, 11, 8)),  # today's Sunday is not past yet
        ("monthly", 22, date(2026, 10, 22), date(2026, 9, 22)),
        ("monthly", 21, date(2026, 11, 21), date(2026, 10, 21)),
        ("quarterly", 28, date(2026, 9, 28), date(2026, 6, 28)),
    ],
)
def test_due_dates(cadence, day, latest, previous):
    assert due_dates_before(cadence, day, TODAY) == (latest, previous)


def test_report_is_missing_only_after_its_due_date_passes():
    assigned = date(2026, 9, 1)
    # Monthly on the 21st: the 2026-11-21 report covers 10-22 .. 11-21.
    assert report_missing("monthly", 21, date(2026, 10, 21), assigned, TODAY)
    assert not report_missing("monthly", 21, date(2026, 10, 22), assigned, TODAY)
    assert not report_missing("monthly", 21, date(2026, 11, 22), assigned, TODAY)  # late but filed
    assert report_missing("monthly", 21, None, assigned, TODAY)


def test_a_measure_assigned_mid_period_owes_its_first_report_next_time():
    assert not report_missing("weekly", 5, None, date(2026, 11, 14), TODAY)
    assert report_missing("weekly", 5, None, date(2026, 11, 13), TODAY)


def test_no_cadence_never_misses_a_report():
    assert not report_missing("", None, None, date(2020, 1, 1), TODAY)


def test_missing_report_turns_the_light_yellow():
    assert (
        lit(assigned_at=date(2026, 9, 1), cadence="weekly", report_day=5, last_report=None)
        == Light.YELLOW
    )


@pytest.mark.parametrize(
    ("deadline", "soon"),
    [(at(-1), False), (at(0), True), (at(7), True), (at(8), False), (None, False)],
)
def test_is_due_soon_is_today_up_to_the_threshold(deadline, soon):
    assert is_due_soon(deadline, TODAY, 7) is soon
    assert (lit(deadline=deadline) == Light.BLUE) is soon  # the 蓝灯 is the same rule


# The SQL 未按时报送 (Measure.objects.report_missing, which every count uses) and this
# module's per-measure rule (the 黄灯) must be one definition.

SHANGHAI_TZ = "Asia/Shanghai"
# Around month ends, February, a quarter's and the year's end.
CHECK_DAYS = [date(2026, 11, 22) + timedelta(days=n) for n in range(0, 45, 3)] + [
    date(2027, 2, 26) + timedelta(days=n) for n in range(5)
]


def moments():
    """Report and assignment times on either side of midnight in Beijing around due dates."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(SHANGHAI_TZ)
    days = [date(2026, 11, 21), date(2026, 11, 30), date(2026, 12, 28), date(2026, 12, 31)]
    days += [date(2027, 1, 1), date(2027, 1, 15), date(2027, 2, 28)]
    for day in days:
        yield datetime(day.year, day.month, day.day, 23, 59, tzinfo=zone)
        yield datetime(day.year, day.month, day.day, 0, 0, tzinfo=zone) + timedelta(days=1)


@pytest.mark.django_db
def test_sql_report_missing_is_the_per_measure_rule(document):
    from zoneinfo import ZoneInfo

    from tracker.models import Measure, ProgressUpdate, User

    from .conftest import make_measure

    author = User.objects.create_user(username="reporter")
    assigned = [datetime(2026, 6, 1, tzinfo=ZoneInfo(SHANGHAI_TZ)), *moments()]
    reports = [None, *moments()]
    facts = {}
    position = 0
    for cadence, days in CYCLE_DAYS.items():
        for day in [d for d in days if d in (1, 5, 7, 15, 28)]:
            for assigned_at, last_report in zip(assigned * 2, reports + reports[::-1], strict=True):
                position += 1
                measure = make_measure(
                    document,
                    position,
                    f"{cadence}{day}-{position}",
                    report_cadence=cadence,
                    report_day=day,
                    assigned_at=assigned_at,
                )
                if last_report is not None:
                    ProgressUpdate.objects.create(
                        measure=measure, author=author, progress="报送", created_at=last_report
                    )
                facts[measure.pk] = (cadence, day, last_report, assigned_at)
    for today in CHECK_DAYS:
        in_sql = set(Measure.objects.report_missing(today).values_list("pk", flat=True))
        by_rule = {pk for pk, fact in facts.items() if report_missing(*fact, today)}
        assert in_sql == by_rule, today
        assert in_sql  # the check days do find missing reports


def test_tally_counts_each_light_by_its_letter():
    from tracker.lights import BY_LETTER, Light, tally

    assert tally("rrydu") == {Light.RED: 2, Light.YELLOW: 1, Light.DONE: 1, Light.UNASSIGNED: 1}
    assert tally("") == {}
    assert set(BY_LETTER.values()) == set(Light)
