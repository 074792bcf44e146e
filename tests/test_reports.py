"""The monthly 通报: per-unit counts at their boundaries, ranking, totals and the sheet."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tracker.models import Change, Measure, MeasureQuerySet, Unit
from tracker.reports import monthly_report, report_xlsx

from .conftest import TODAY, make_measure

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def close(measure, at):
    """The measure reached 已办结 at `at`, as 办结审核 records it: closed_at and a history line."""
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.DONE, closed_at=at)
    Change.objects.write(
        [Change(measure=measure, field="status", old="待审核", new="已办结", created_at=at)]
    )


def line(report, name):
    return next(stats for stats in report.units if stats.name == name)


@pytest.fixture
def counted(document, units, staff):
    """社会救助司: one measure of each light; 养老服务司: closed inside and outside November.
    All assigned: without an owner a measure is 待交办."""
    aid, care = units["aid"], units["care"]
    make_measure(document, 1, "逾期", unit=aid, owner=staff, deadline=date(2026, 11, 21))
    make_measure(document, 2, "按期", unit=aid, owner=staff, deadline=date(2027, 3, 1))
    make_measure(document, 3, "临期", unit=aid, owner=staff, deadline=date(2026, 11, 22))
    make_measure(
        document,
        4,
        "漏报",
        unit=aid,
        owner=staff,
        report_cadence="monthly",
        report_day=10,
        assigned_at=shanghai(2026, 1, 1),
    )
    make_measure(document, 5, "暂缓", unit=aid, owner=staff, status=Measure.Status.SUSPENDED)
    close(
        make_measure(document, 6, "月初办结", unit=care, owner=staff), shanghai(2026, 11, 1, 0, 0)
    )
    close(
        make_measure(document, 7, "上月办结", unit=care, owner=staff),
        shanghai(2026, 10, 31, 23, 59),
    )
    close(
        make_measure(document, 8, "月末办结", unit=care, owner=staff),
        shanghai(2026, 11, 30, 23, 59),
    )
    close(
        make_measure(document, 9, "下月办结", unit=care, owner=staff), shanghai(2026, 12, 1, 0, 0)
    )
    make_measure(document, 10, "已归档", unit=aid, owner=staff, archived_at=shanghai(2026, 11, 2))


def test_counts_each_light_once_and_missing_reports(counted):
    aid = line(monthly_report(2026, 11, today=TODAY), "社会救助司")
    assert (aid.total, aid.done, aid.on_track, aid.behind, aid.overdue) == (5, 0, 2, 1, 1)
    assert aid.reports_missing == 1


def test_completed_counts_status_changes_inside_the_month_in_shanghai_time(counted):
    care = line(monthly_report(2026, 11, today=TODAY), "养老服务司")
    assert (care.total, care.done, care.completed) == (4, 4, 2)
    october = line(monthly_report(2026, 10, today=TODAY), "养老服务司")
    assert october.completed == 1


def test_completed_counts_closed_at_not_the_status_label(counted):
    # The history lines keep whatever label 已办结 had when they were written; renaming the
    # label (or any other text in them) must not change a past month's 通报.
    Change.objects.filter(field="status").update(new="已销号")
    care = line(monthly_report(2026, 11, today=TODAY), "养老服务司")
    assert care.completed == 2
    assert line(monthly_report(2026, 10, today=TODAY), "养老服务司").completed == 1


def test_a_measure_closed_this_month_counts_and_reopening_takes_it_back(
    document, units, supervisor
):
    today = timezone.localdate()  # closed_at is stamped with the real clock
    measure = make_measure(document, 1, "直接销号", unit=units["care"], status="in_progress")
    measure.close_directly(supervisor, "已完成全部整改")
    care = line(monthly_report(today.year, today.month, today=today), "养老服务司")
    assert (care.done, care.completed) == (1, 1)

    measure.reopen(supervisor, "回头看发现问题反弹")
    care = line(monthly_report(today.year, today.month, today=today), "养老服务司")
    assert (care.done, care.completed) == (0, 0)


def test_a_suspended_or_closed_measure_never_misses_a_report(document, units):
    # A monthly cycle with no report at all: only the open measure owes it.
    for position, status in enumerate(["in_progress", "suspended", "done", "pending_review"]):
        make_measure(
            document,
            position + 1,
            f"月报{status}",
            unit=units["aid"],
            status=status,
            report_cadence="monthly",
            report_day=10,
            assigned_at=shanghai(2026, 1, 1),
        )
    assert line(monthly_report(2026, 11, today=TODAY), "社会救助司").reports_missing == 2


def test_missing_reports_are_the_querysets(monkeypatch, counted):
    # One definition: whatever Measure.objects.report_missing counts, the 通报 counts.
    seen = []

    def report_missing(self, today):
        seen.append(today)
        return self.active().filter(title="暂缓")

    monkeypatch.setattr(MeasureQuerySet, "report_missing", report_missing)
    assert line(monthly_report(2026, 11, today=TODAY), "社会救助司").reports_missing == 1
    assert line(monthly_report(2026, 10, today=TODAY), "社会救助司").reports_missing == 1
    assert seen == [TODAY, date(2026, 10, 31)]  # seen from the report's "as of" day


def test_a_past_month_sees_the_lights_from_its_last_day(document, units):
    make_measure(document, 1, "十月底到期", unit=units["aid"], deadline=date(2026, 10, 31))
    october = monthly_report(2026, 10, today=TODAY)
    assert october.as_of == date(2026, 10, 31)
    aid = line(october, "社会救助司")
    assert (aid.overdue, aid.on_track) == (0, 1)
    november = monthly_report(2026, 11, today=TODAY)
    assert november.as_of == TODAY and line(november, "社会救助司").overdue == 1


def test_a_future_month_is_refused_in_chinese(units):
    with pytest.raises(ValueError, match="2026年12月尚未到来"):
        monthly_report(2026, 12, today=TODAY)


def test_every_unit_is_listed_even_without_measures(units):
    report = monthly_report(2026, 11, today=TODAY)
    assert [stats.name for stats in report.units] == ["办公厅", "社会救助司", "养老服务司"]
    assert all(stats.total == 0 and stats.rank is None for stats in report.units)
    assert all(stats.completion_rate is None for stats in report.units)
    assert report.unassigned is None and report.totals.total == 0


def test_ranking_by_completion_rate_then_overdue_rate_with_shared_ranks(document, units):
    extra = Unit.objects.create(name="规划财务司", position=3)
    Unit.objects.create(name="人事司", position=4)
    for position, (unit, status, deadline) in enumerate(
        [
            (units["office"], "done", None),  # 1/2 done, none overdue
            (units["office"], "in_progress", None),
            (units["care"], "done", None),  # 1/2 done, none overdue: ties with 办公厅
            (units["care"], "not_started", None),
            (units["aid"], "done", None),  # 1/2 done, 1 overdue: behind both
            (units["aid"], "in_progress", date(2026, 11, 1)),
            (extra, "in_progress", None),  # 0/1 done
        ],
        start=1,
    ):
        make_measure(
            document, position, f"事项{position}", unit=unit, status=status, deadline=deadline
        )
    report = monthly_report(2026, 11, today=TODAY)
    assert [(s.name, s.rank) for s in report.units] == [
        ("办公厅", 1),
        ("养老服务司", 1),
        ("社会救助司", 3),
        ("规划财务司", 4),
        ("人事司", None),
    ]
    assert report.units[0].completion_percent == 50.0


def test_totals_add_every_unit_and_the_unassigned_measures(counted, document):
    make_measure(document, 11, "无牵头单位", deadline=date(2026, 11, 1))
    report = monthly_report(2026, 11, today=TODAY)
    assert (report.unassigned.total, report.unassigned.overdue) == (1, 1)
    assert report.unassigned.rank is None
    totals = report.totals
    assert (totals.total, totals.done, totals.completed, totals.overdue) == (10, 4, 2, 2)
    assert totals.completion_percent == 40.0


def test_report_query_count_does_not_grow_with_the_ledger(
    document, units, django_assert_max_num_queries
):
    for position in range(1, 40):
        make_measure(document, position, f"事项{position}", unit=units["aid"])
    # units, lights per unit, 未按时报送 per unit, 本月办结 per unit; the first two
    # each read the report cycles in use
    with django_assert_max_num_queries(6):
        monthly_report(2026, 11, today=TODAY)


def test_report_sheet_has_title_table_totals_and_prints_on_a4_landscape(counted):
    report = monthly_report(2026, 11, today=TODAY)
    sheet = load_workbook(io.BytesIO(report_xlsx(report))).active
    assert sheet["A1"].value == "2026年11月督办工作通报"
    assert "2026-11-22" in sheet["A2"].value
    assert [cell.value for cell in sheet[3]][:3] == ["排名", "单位", "事项总数"]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=4, values_only=True) if row[1]}
    assert rows["养老服务司"][:5] == (1, "养老服务司", 4, 4, 2)
    assert rows["办公厅"][0] == "—"
    assert rows["合计"][2] == 9
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.page_setup.orientation == "landscape"
