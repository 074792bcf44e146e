"""The warning light computed in the database (Measure.objects.with_light) agrees with the
readable specification in tracker.lights on generated measures at every boundary."""

from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.lights import Thresholds, due_dates_before, light, tally
from tracker.models import Measure, ProgressUpdate

pytestmark = pytest.mark.django_db

# Days where calendars turn: month and quarter ends, leap days, year ends.
TODAYS = [
    date(2024, 2, 28),
    date(2024, 2, 29),
    date(2024, 3, 1),
    date(2024, 3, 31),
    date(2025, 2, 28),
    date(2025, 3, 1),
    date(2025, 6, 30),
    date(2025, 12, 31),
    date(2026, 1, 1),
    date(2026, 9, 30),
    date(2026, 11, 22),
]
# Near Asia/Shanghai midnight, where a UTC date would differ from the local one.
CLOCK = [time(0, 0), time(0, 30), time(7, 59), time(8, 0), time(12, 0), time(23, 59, 59)]


def when(day):
    """A moment: some day around today, or a day next to the cycle's opening due date."""
    near_due = st.tuples(st.just("due"), st.integers(-1, 1), st.sampled_from(CLOCK))
    anywhere = st.tuples(st.just("day"), day, st.sampled_from(CLOCK))
    return near_due | anywhere


@st.composite
def measures(draw):
    day = st.integers(min_value=-120, max_value=120)
    cadence = draw(st.sampled_from(["", "weekly", "monthly", "quarterly"]))
    report_day = None
    if cadence == "weekly":
        report_day = draw(st.integers(1, 7))
    elif cadence:
        report_day = draw(st.integers(1, 28))
    return {
        "status": draw(st.sampled_from([s.value for s in Measure.Status])),
        "deadline": draw(st.none() | day),
        "assigned": draw(st.none() | when(day)),
        "report": draw(st.none() | when(day)),
        "percent": draw(st.none() | st.integers(0, 100)),
        "cadence": cadence,
        "report_day": report_day,
        # Mostly assigned: a measure without an owner or a lead unit is 待交办.
        "owner": draw(st.booleans() | st.just(True)),
        "unit": draw(st.booleans() | st.just(True)),
    }


def moment(today, offset, cadence, report_day):
    anchor, days, clock = offset
    base = today
    if anchor == "due" and cadence:
        base = due_dates_before(cadence, report_day, today)[1]
    return timezone.make_aware(datetime.combine(base + timedelta(days=days), clock))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    today=st.sampled_from(TODAYS),
    rows=st.lists(measures(), min_size=1, max_size=25),
    soon=st.sampled_from([0, 3, 7]),
    gap=st.sampled_from([0, 30, 50]),
)
def test_database_light_matches_the_specification(document, staff, today, rows, soon, gap):
    from .conftest import make_measure

    ProgressUpdate.objects.all().delete()
    Measure.objects.all().delete()
    thresholds = Thresholds(soon, gap)
    expected = {}
    for i, row in enumerate(rows):
        deadline = today + timedelta(days=row["deadline"]) if row["deadline"] is not None else None
        cycle = row["cadence"], row["report_day"]
        assigned = moment(today, row["assigned"], *cycle) if row["assigned"] else None
        m = make_measure(
            document,
            i + 1,
            f"事项{i}",
            status=row["status"],
            deadline=deadline,
            assigned_at=assigned,
            report_cadence=row["cadence"],
            report_day=row["report_day"],
            owner=staff if row["owner"] else None,
            unit=staff.unit if row["unit"] else None,
        )
        reported = moment(today, row["report"], *cycle) if row["report"] else None
        if reported:
            ProgressUpdate.objects.create(
                measure=m,
                author=staff,
                progress="进展",
                percent=row["percent"],
                created_at=reported,
            )
        expected[m.pk] = light(
            status=row["status"],
            deadline=deadline,
            today=today,
            assigned_at=assigned,
            percent=row["percent"] if reported else None,
            last_report=reported,
            cadence=row["cadence"],
            report_day=row["report_day"],
            assigned=row["owner"] and row["unit"],
            thresholds=thresholds,
        )
    actual = dict(Measure.objects.with_light(today, thresholds).values_list("pk", "light"))
    assert actual == {pk: value.value for pk, value in expected.items()}
    # The dashboard's and the 通报's counts: the lights tallied per unit × owner group.
    keys = dict(Measure.objects.values_list("pk", "unit_id"))
    owners = dict(Measure.objects.values_list("pk", "owner_id"))
    wanted = {}
    for pk, value in expected.items():
        wanted.setdefault((keys[pk], owners[pk]), Counter())[value] += 1
    tallies = Measure.objects.light_tallies(today, "unit_id", "owner_id", thresholds=thresholds)
    assert {(u, o): Counter(tally(letters)) for u, o, letters in tallies} == wanted


def test_light_counts_group_by_unit_in_one_query(
    document, units, django_assert_num_queries, freeze_today
):
    from django.db.models import Count

    from .conftest import TODAY, make_measure

    make_measure(document, 1, "甲", unit=units["aid"], deadline=TODAY - timedelta(days=1))
    make_measure(document, 2, "乙", unit=units["aid"], deadline=TODAY + timedelta(days=2))
    make_measure(document, 3, "丙", unit=units["care"], status="done")
    with django_assert_num_queries(2):  # the report cycles in use, then one GROUP BY
        rows = list(
            Measure.objects.with_light(TODAY)
            .values("unit__name", "light")
            .annotate(n=Count("pk"))
            .order_by("unit__name", "light")
        )
    assert {(r["unit__name"], r["light"], r["n"]) for r in rows} == {
        ("社会救助司", "red", 1),
        ("社会救助司", "unassigned", 1),  # no owner yet: 待交办
        ("养老服务司", "done", 1),
    }


@pytest.mark.parametrize("gap", [0, 30])
def test_pace_boundary_agrees_exactly(document, staff, gap):
    """黄灯 for pace flips between two adjacent percents: both sides, for many spans."""
    from .conftest import make_measure

    today = date(2026, 11, 22)
    thresholds = Thresholds(0, gap)
    expected, position = {}, 0
    for span in (1, 3, 7, 10, 30, 99, 100):
        for elapsed in {0, 1, span // 3, span // 2, span - 1, span}:
            share = elapsed * 100 / span
            for percent in {int(share) - gap - 1, int(share) - gap, int(share) - gap + 1}:
                if not 0 <= percent <= 100 or elapsed > span:
                    continue
                position += 1
                assigned = timezone.make_aware(
                    datetime.combine(today - timedelta(days=elapsed), time(9))
                )
                deadline = today + timedelta(days=span - elapsed + 1)  # never due soon
                m = make_measure(
                    document,
                    position,
                    f"p{position}",
                    deadline=deadline,
                    assigned_at=assigned,
                    owner=staff,
                    unit=staff.unit,
                )
                reported = assigned + timedelta(hours=1)
                ProgressUpdate.objects.create(
                    measure=m, author=staff, progress="x", percent=percent, created_at=reported
                )
                expected[m.pk] = light(
                    status="in_progress",
                    deadline=deadline,
                    today=today,
                    assigned_at=assigned,
                    percent=percent,
                    last_report=reported,
                    thresholds=thresholds,
                ).value
    actual = dict(Measure.objects.with_light(today, thresholds).values_list("pk", "light"))
    assert actual == expected
    assert {"yellow", "green"} <= set(expected.values())
