"""One definition of every rule: the dashboard, the 通报, the reminders and the export agree.

The ledger below holds the cases the definitions used to disagree on: a suspended measure and
a closed one with a monthly cycle and no reports, an archived one with a pending request, one
待审核, weekly cycles due on month ends, reports and assignments on the boundary day (and
on either side of midnight in Beijing, which is the day before in UTC), and no 牵头单位.
Each source is read the way a person reads it: the dashboard and the 通报 through their pages,
the export as the downloaded workbook, the supervisor summary as the daily run builds it.
"""

import io
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tracker import lights, reminders
from tracker.models import ClosureRequest, ExtensionRequest, Measure, ProgressUpdate
from tracker.reports import UNASSIGNED
from tracker.spreadsheets import HEADER_ROW

from .conftest import TODAY, make_measure

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONG_AGO = datetime(2026, 1, 1, 9, tzinfo=SHANGHAI)
NO_UNIT = None  # the key of measures without a 牵头单位 in every per-unit count below


def beijing(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def ledger(document, units, supervisor, staff, other_staff):
    """The tricky ledger; returns {title: measure}."""
    aid, care = units["aid"], units["care"]
    made = {}

    def add(title, unit=None, owner=None, reports=(), **fields):
        measure = make_measure(
            document, len(made) + 1, title, unit=unit, owner=owner or staff, **fields
        )
        for when in reports:
            ProgressUpdate.objects.create(
                measure=measure, author=measure.owner, progress="按期报送", created_at=when
            )
        made[title] = measure
        return measure

    monthly = {"report_cadence": "monthly", "report_day": 10, "assigned_at": LONG_AGO}
    # Closed or out of the ledger: never 未按时报送, never overdue, never due soon.
    add("暂缓月报", aid, status="suspended", **monthly)
    add(
        "已办结月报",
        aid,
        status="done",
        deadline=date(2026, 10, 1),
        recheck_on=date(2026, 11, 20),
        **monthly,
    )
    add("已办结下月回头看", aid, status="done", recheck_on=date(2026, 12, 20))
    archived = add("已归档", aid, deadline=date(2026, 11, 1), **monthly)
    archived.request_extension(staff, date(2026, 12, 31), "归档前申请", TODAY)
    Measure.objects.filter(pk=archived.pk).update(archived_at=beijing(2026, 11, 2))
    # 待审核 is still open: judged by its deadline.
    add("待审核", aid, deadline=date(2026, 11, 25)).request_closure(staff, "已完成")
    add("逾期", aid, deadline=date(2026, 11, 21)).request_extension(
        staff, date(2026, 12, 31), "需协调财政资金", TODAY
    )
    # Reports due on the 21st: the one filed on 10-21 belongs to October's period, even at
    # 23:59 in Beijing; one minute later (still 10-21 in UTC) it counts for November's.
    cycle21 = {"report_cadence": "monthly", "report_day": 21, "assigned_at": LONG_AGO}
    add("边界日报送", aid, reports=[beijing(2026, 10, 21, 23, 59)], **cycle21)
    add("次日零点报送", aid, reports=[beijing(2026, 10, 22, 0, 0)], **cycle21)

    weekly = {"report_cadence": "weekly", "assigned_at": LONG_AGO}
    add("周六周报", care, other_staff, [beijing(2026, 10, 31)], report_day=6, **weekly)
    add("周一周报", care, other_staff, [beijing(2026, 11, 16, 9)], report_day=1, **weekly)
    add("周日周报", care, other_staff, [beijing(2026, 11, 8)], report_day=7, **weekly)
    add(
        "二十八日月报",
        care,
        other_staff,
        [beijing(2026, 10, 28)],
        report_cadence="monthly",
        report_day=28,
        assigned_at=LONG_AGO,
    )
    # Assigned on the due date (late evening in Beijing) owes that period's report; assigned
    # just after midnight, the next one.
    add(
        "十日深夜分配",
        care,
        other_staff,
        report_cadence="monthly",
        report_day=10,
        assigned_at=beijing(2026, 10, 10, 23),
    )
    add(
        "十一日凌晨分配",
        care,
        other_staff,
        report_cadence="monthly",
        report_day=10,
        assigned_at=beijing(2026, 10, 11, 0, 30),
    )
    quarterly = {"report_cadence": "quarterly", "report_day": 15, "assigned_at": LONG_AGO}
    add("季报已报", care, other_staff, [beijing(2026, 6, 20)], **quarterly)
    add("季报边界日", care, other_staff, [beijing(2026, 6, 15, 18)], **quarterly)
    add("七天后到期", care, other_staff, deadline=date(2026, 11, 29))
    add("八天后到期", care, other_staff, deadline=date(2026, 11, 30))
    add("无牵头单位", None, **monthly)
    return made


@pytest.fixture
def frozen(monkeypatch):
    """Pin 'today' (Asia/Shanghai) for the pages; returns a setter."""
    from django.utils import timezone

    real = timezone.localdate

    def pin(day):
        def localdate(value=None, timezone=None):
            return day if value is None else real(value, timezone)

        monkeypatch.setattr(timezone, "localdate", localdate)
        return day

    return pin


def oracle_missing(today):
    """未按时报送 worked out measure by measure with lights.report_missing, from raw rows."""
    latest = {}
    for update in ProgressUpdate.objects.all():
        if update.measure_id not in latest or update.created_at > latest[update.measure_id]:
            latest[update.measure_id] = update.created_at
    return {
        measure.pk
        for measure in Measure.objects.filter(archived_at__isnull=True)
        if measure.status not in ("done", "suspended")
        and lights.report_missing(
            measure.report_cadence,
            measure.report_day,
            latest.get(measure.pk),
            measure.assigned_at,
            today,
        )
    }


def dashboard(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("overdue"))
    assert response.status_code == 200
    context = response.context["dash"]
    red = context["light_order"].index(lights.Light.RED)
    return {
        "missing": context["missing_reports"],
        "missing_by_unit": nonzero({row["pk"]: row["missing"] for row in context["light_rows"]}),
        "overdue": context["totals"]["overdue"],
        "overdue_by_unit": nonzero({row["pk"]: row["cells"][red] for row in context["light_rows"]}),
        "red": dict(context["light_totals"])[lights.Light.RED],
        "due_soon": context["totals"]["soon"],
        "pending_extensions": len(list(context["pending_extensions"])),
        "pending_closures": len(list(context["pending_closures"])),
        "rechecks_due": len(list(context["rechecks_due"])),
    }


def monthly_report(client, supervisor, today):
    client.force_login(supervisor)
    response = client.get(reverse("report_monthly"), {"month": f"{today:%Y-%m}"})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.as_of == today
    lines = [*report.units, *([report.unassigned] if report.unassigned else [])]
    return {
        "missing": report.totals.reports_missing,
        "missing_by_unit": nonzero({key(s): s.reports_missing for s in lines}),
        "overdue": report.totals.overdue,
        "overdue_by_unit": nonzero({key(s): s.overdue for s in lines}),
    }


def key(stats):
    return NO_UNIT if stats.name == UNASSIGNED else stats.unit.pk


def exported(client, supervisor, units):
    """The downloaded 台账: {measure id: (unit id, status label, light label)}."""
    client.force_login(supervisor)
    response = client.get(reverse("measure_export_xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[HEADER_ROW]]
    labels = ("事项编号", "责任领导/牵头单位", "状态", "亮灯")
    column = {label: header.index(label) for label in labels}
    by_name = {unit.name: unit.pk for unit in units.values()}
    rows = {}
    for values in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        unit = values[column["责任领导/牵头单位"]]
        rows[values[column["事项编号"]]] = (
            by_name.get(unit, NO_UNIT),
            values[column["状态"]],
            values[column["亮灯"]],
        )
    return rows


def nonzero(counts):
    return {unit: n for unit, n in counts.items() if n}


def with_light(rows, light):
    return {pk for pk, (_, _, label) in rows.items() if label == light.label}


def by_unit(rows, pks):
    return dict(Counter(rows[pk][0] for pk in pks))


@pytest.mark.parametrize(
    "today",
    [
        TODAY,  # a Sunday: the weekly Sunday report is not due until the day is over
        date(2026, 11, 30),  # a Monday at the month's end: last Monday's report was 11-16
        date(2026, 12, 1),  # the day after: the Monday report was due on the month's last day
        date(2026, 12, 6),
    ],
)
def test_dashboard_report_reminders_and_export_agree(
    client, frozen, ledger, units, supervisor, today
):
    frozen(today)
    missing = set(Measure.objects.report_missing(today).values_list("pk", flat=True))
    overdue = set(Measure.objects.overdue(today).values_list("pk", flat=True))
    due_soon = set(Measure.objects.due_soon(today).values_list("pk", flat=True))
    pending_extensions = ExtensionRequest.objects.pending().count()
    pending_closures = ClosureRequest.objects.pending().count()
    rechecks = Measure.objects.rechecks_due(today).count()

    # The one SQL definition is the per-measure rule of the 黄灯.
    assert missing == oracle_missing(today)

    board = dashboard(client, supervisor)
    report = monthly_report(client, supervisor, today)
    summary = reminders.supervisor_summary(today)
    sheet = exported(client, supervisor, units)

    # 未按时报送
    assert board["missing"] == report["missing"] == summary.reports_missing == len(missing)
    assert board["missing_by_unit"] == report["missing_by_unit"] == by_unit(sheet, missing)
    # In the export a missing report is the 黄灯 (no measure here is behind pace).
    assert with_light(sheet, lights.Light.YELLOW) == missing
    # Overdue: the count, the 红灯, per unit.
    assert board["overdue"] == board["red"] == report["overdue"] == summary.overdue == len(overdue)
    assert with_light(sheet, lights.Light.RED) == overdue
    assert board["overdue_by_unit"] == report["overdue_by_unit"] == by_unit(sheet, overdue)
    assert dict(summary.overdue_by_unit) == {
        (sheet_unit_name(units, unit) or reminders.NO_UNIT): n
        for unit, n in by_unit(sheet, overdue).items()
    }
    # Due soon: the 蓝灯 (no measure due soon misses a report here).
    assert board["due_soon"] == summary.due_soon == len(due_soon)
    assert with_light(sheet, lights.Light.BLUE) == due_soon
    # Pending requests and re-checks.
    assert board["pending_extensions"] == summary.pending_extensions == pending_extensions
    assert board["pending_closures"] == summary.pending_closures == pending_closures
    statuses = Counter(status for _, status, _ in sheet.values())
    assert statuses["待审核"] == pending_closures
    assert board["rechecks_due"] == summary.rechecks_due == rechecks
    # Archived measures are in none of them.
    assert ledger["已归档"].pk not in sheet


def sheet_unit_name(units, pk):
    return next((unit.name for unit in units.values() if unit.pk == pk), None)


def test_the_tricky_ledger_on_the_reference_day(client, frozen, ledger, units, supervisor):
    """What the agreement above agrees on, spelled out for 2026-11-22."""
    frozen(TODAY)
    missing = {m.title for m in Measure.objects.report_missing(TODAY)}
    assert missing == {
        "边界日报送",  # filed on the due date of the period before
        "周六周报",  # last filed 10-31; due 11-14 and 11-21
        "周日周报",  # filed 11-08, due 11-15; today's is not late yet
        "十日深夜分配",  # assigned on 10-10, owed the report due 11-10
        "季报边界日",  # filed on 06-15, the due date; 09-15's is missing
        "无牵头单位",
    }
    assert {m.title for m in Measure.objects.overdue(TODAY)} == {"逾期"}
    assert {m.title for m in Measure.objects.due_soon(TODAY)} == {"待审核", "七天后到期"}

    summary = reminders.supervisor_summary(TODAY)
    assert (summary.reports_missing, summary.overdue, summary.due_soon) == (6, 1, 2)
    assert (summary.pending_extensions, summary.pending_closures, summary.rechecks_due) == (1, 1, 1)

    board = dashboard(client, supervisor)
    # The suspended measure with a monthly cycle counts nowhere (it once counted on the
    # dashboard only).
    aid = units["aid"].pk
    assert board["missing_by_unit"][aid] == 1
    assert board["missing"] == monthly_report(client, supervisor, TODAY)["missing"] == 6
    sheet = exported(client, supervisor, units)
    assert sheet[ledger["暂缓月报"].pk][2] == lights.Light.PAUSED.label
    assert sheet[ledger["已办结月报"].pk][2] == lights.Light.DONE.label


def test_owner_digests_list_exactly_the_missing_reports(ledger, staff, other_staff):
    # The late items across the owners' digests are Measure.objects.report_missing, except
    # what a digest leaves out (待审核, measures without an owner).
    late = set()
    for owner in (staff, other_staff):
        late |= {i.measure.pk for i in reminders.owner_digest(owner, TODAY).reports if i.late}
    expected = Measure.objects.report_missing(TODAY).exclude(status="pending_review")
    assert late == set(expected.filter(owner__isnull=False).values_list("pk", flat=True))
