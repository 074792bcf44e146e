"""The monthly 督办工作通报: per-unit counts, a ranking and totals, as data and as a sheet.

Everything except 本月办结 describes the measures as they are now, with the lights worked
out for the report's "as of" day: today for the current month, the month's last day for a
past month. The ledger keeps no daily snapshots, so a past month's report shows today's
statuses and reports seen from that day; only 本月办结 is historical: the measures whose
`closed_at` (set when a measure reaches 已办结) falls in that month, Asia/Shanghai time.

未按时报送 is `Measure.objects.report_missing(as_of)`, the same queryset the dashboard, the
reminders and the ledger's 黄灯 use; it is counted per unit in SQL, never re-derived here.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from django.db.models import Count
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .lights import Light, tally
from .models import Measure, Unit
from .spreadsheets import HEADER_FILL, set_print_layout, workbook_bytes, write_cell

UNASSIGNED = "未明确牵头单位"
RANKING_RULE = (
    "排名规则：按办结率（累计办结÷事项总数）由高到低；办结率相同的，按逾期率（逾期÷事项总数）"
    "由低到高；两项均相同的并列。暂无事项的单位不参与排名。"
)


@dataclass
class UnitStats:
    """One unit's line of the 通报; counts are of active measures the unit leads."""

    name: str
    unit: Unit | None = None
    total: int = 0
    done: int = 0  # 累计办结: status 已办结 now
    completed: int = 0  # 本月办结: reached 已办结 during the month
    on_track: int = 0  # open, 绿灯 or 蓝灯
    behind: int = 0  # 黄灯
    overdue: int = 0  # 红灯
    reports_missing: int = 0  # open and 未按时报送
    rank: int | None = None

    @property
    def completion_rate(self):
        """办结率 as an exact fraction (so equal rates tie), None without measures."""
        return Fraction(self.done, self.total) if self.total else None

    @property
    def overdue_rate(self):
        return Fraction(self.overdue, self.total) if self.total else None

    @property
    def completion_percent(self):
        rate = self.completion_rate
        return None if rate is None else round(float(rate) * 100, 1)


COUNTS = ("total", "done", "completed", "on_track", "behind", "overdue", "reports_missing")


@dataclass
class Report:
    year: int
    month: int
    as_of: date
    units: list[UnitStats]  # every unit, in ranking order
    unassigned: UnitStats | None  # measures without a 牵头单位, if any; never ranked
    totals: UnitStats

    @property
    def title(self):
        return f"{self.year}年{self.month}月督办工作通报"


def monthly_report(year, month, *, today):
    """The 通报 for a month up to `today`; four queries whatever the size of the ledger."""
    as_of = report_day(year, month, today)
    stats = {unit.pk: UnitStats(unit.name, unit) for unit in Unit.objects.all()}
    unassigned = UnitStats(UNASSIGNED)
    for unit_id, letters in lights_by_unit(as_of):
        for light, n in tally(letters).items():
            count(stats.get(unit_id, unassigned), light, n)
    for unit_id, missing in reports_missing_by_unit(as_of):
        stats.get(unit_id, unassigned).reports_missing = missing
    for unit_id, completed in completed_in(year, month):
        stats.get(unit_id, unassigned).completed = completed
    units = ranked(list(stats.values()))
    totals = add_up([*units, unassigned])
    return Report(year, month, as_of, units, unassigned if unassigned.total else None, totals)


def report_day(year, month, today):
    """The day the lights are seen from: today this month, the last day of a past month."""
    if not 1 <= month <= 12:
        raise ValueError(f"月份应为 1–12，收到 {month}。")
    if (year, month) > (today.year, today.month):
        raise ValueError(f"{year}年{month}月尚未到来，不能生成通报。")
    if (year, month) == (today.year, today.month):
        return today
    return date(year, month, calendar.monthrange(year, month)[1])


def lights_by_unit(as_of):
    """(unit id, its measures' lights for lights.tally), as the database computes them on
    `as_of`."""
    return Measure.objects.active().light_tallies(as_of, "unit_id")


def count(stats, light, n):
    stats.total += n
    stats.done += n if light == Light.DONE else 0
    # Not late: a 待交办 measure still waits for its owner, but nothing is behind yet.
    stats.on_track += n if light in (Light.GREEN, Light.BLUE, Light.UNASSIGNED) else 0
    stats.behind += n if light == Light.YELLOW else 0
    stats.overdue += n if light == Light.RED else 0


def reports_missing_by_unit(as_of):
    """(unit id, 未按时报送 measures) as `Measure.objects.report_missing` counts them."""
    return (
        Measure.objects.report_missing(as_of)
        .order_by()
        .values_list("unit_id")
        .annotate(Count("pk"))
    )


def month_bounds(year, month):
    """The month's first moment and the next month's, Asia/Shanghai."""
    zone = timezone.get_default_timezone()
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def completed_in(year, month):
    """(unit id, measures closed in the month), by the measure's current unit.

    Read from `Measure.closed_at`, a stored timestamp, so renaming a status label never
    changes a past month's 通报. A measure reopened since has no closed_at and is not counted.
    """
    start, end = month_bounds(year, month)
    return (
        Measure.objects.active()
        .filter(closed_at__gte=start, closed_at__lt=end)
        .order_by()
        .values_list("unit_id")
        .annotate(Count("pk"))
    )


def ranked(units):
    """Units with measures by RANKING_RULE, ties sharing a rank (1, 1, 3); then the rest."""
    with_measures = sorted(
        (stats for stats in units if stats.total),
        key=lambda stats: (-stats.completion_rate, stats.overdue_rate),
    )
    rank, previous_key = 0, None
    for place, stats in enumerate(with_measures, start=1):
        key = (stats.completion_rate, stats.overdue_rate)
        if key != previous_key:
            rank, previous_key = place, key
        stats.rank = rank
    return with_measures + [stats for stats in units if not stats.total]


def add_up(rows):
    totals = UnitStats("合计")
    for name in COUNTS:
        setattr(totals, name, sum(getattr(stats, name) for stats in rows))
    return totals


# The printable sheet ----------------------------------------------------------------------

REPORT_COLUMNS = (
    ("排名", 6),
    ("单位", 18),
    ("事项总数", 9),
    ("累计办结", 9),
    ("本月办结", 9),
    ("按期推进", 9),
    ("进度滞后", 9),
    ("逾期", 7),
    ("未按时报送", 10),
    ("办结率", 9),
)
REPORT_HEADER_ROW = 3


def report_xlsx(report):
    """The 通报 on one landscape page width: title, basis, table with totals, ranking rule."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{report.year}年{report.month}月"
    width = len(REPORT_COLUMNS)
    heading(sheet, 1, report.title, width, Font(size=16, bold=True), "center")
    basis = f"统计截至 {report.as_of:%Y-%m-%d}。本月办结按办结时间统计，其余各项按当前状态统计。"
    heading(sheet, 2, basis, width, Font(size=10), "left")
    for column, (label, column_width) in enumerate(REPORT_COLUMNS, start=1):
        cell = table_cell(sheet, REPORT_HEADER_ROW, column, label)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = column_width
    lines = [*report.units, *([report.unassigned] if report.unassigned else []), report.totals]
    for row, stats in enumerate(lines, start=REPORT_HEADER_ROW + 1):
        for column, value in enumerate(report_values(stats), start=1):
            table_cell(sheet, row, column, value)
        sheet.cell(row, width).number_format = "0.0%"
    for column in range(1, width + 1):
        sheet.cell(row, column).font = Font(bold=True)  # the totals line
    heading(sheet, row + 2, RANKING_RULE, width, Font(size=10), "left")
    sheet.row_dimensions[row + 2].height = 30
    # The same paper, orientation and page numbers as the 台账 export (LEDGER_PAPER).
    set_print_layout(sheet, repeat_row=REPORT_HEADER_ROW)
    return workbook_bytes(workbook)


def report_values(stats):
    rate = stats.completion_rate
    return [
        stats.rank if stats.rank is not None else "—",
        stats.name,
        stats.total,
        stats.done,
        stats.completed,
        stats.on_track,
        stats.behind,
        stats.overdue,
        stats.reports_missing,
        float(rate) if rate is not None else "—",
    ]


def heading(sheet, row, text, width, font, align):
    cell = sheet.cell(row, 1, text)
    cell.font = font
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def table_cell(sheet, row, column, value):
    cell = write_cell(sheet, row, column, value)  # text stays text: never a formula
    cell.alignment = Alignment(horizontal="left" if column == 2 else "center", vertical="center")
    return cell
