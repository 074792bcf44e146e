"""Warning lights and reporting cycles at their boundaries."""

from datetime import date, datetime, timedelta

import pytest

from tracker.lights import (
    Light,
    Thresholds,
    behind_pace,
    due_dates_before,
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
