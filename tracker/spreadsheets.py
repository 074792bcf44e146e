"""The Excel 台账: export the ledger as .xlsx or .csv, and import edits back from the .xlsx.

The import changes only 牵头单位, 责任人, 完成时限 and 状态, in three steps the view drives:
read_sheet (upload → plain rows kept in the session), plan_import (a preview, and again at
apply time) and apply_plan (one transaction). 序号 only counts the rows (1…N as exported);
rows are matched by the hidden 事项编号 column, the measure's id. Exports from before that
column had the id in 序号 and are still read that way (see find_header). The hidden 版本
column carries the version each row was exported at, so a row whose measure was changed
online since then is refused instead of silently putting the older values back.
"""

import csv
import io
import re
import zipfile
import zlib
from collections import defaultdict
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Subquery
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .lights import COLOURS, light_of
from .models import Measure, Unit, User, latest_progress
from .pipeline.read import check_archive, xml_safe
from .pipeline.types import ImportProblem

# (label, column width); the order is the layout of the sheet and of the CSV.
COLUMNS = (
    ("序号", 7),
    ("任务内容", 44),
    ("来源", 26),
    ("责任领导/牵头单位", 14),
    ("配合单位", 14),
    ("责任人", 10),
    ("完成时限", 12),
    ("状态", 9),
    ("亮灯", 8),
    ("进展情况", 36),
    ("存在问题", 24),
    ("下步计划", 24),
)
HEADERS = tuple(label for label, _ in COLUMNS)
SEQUENCE_HEADER = "序号"
VERSION_HEADER = "版本"
ID_HEADER = "事项编号"
# The hidden columns after the visible ones: what the import needs and nobody edits.
ALL_EXPORT_HEADERS = (*HEADERS, VERSION_HEADER, ID_HEADER)
DEADLINE_COLUMN = HEADERS.index("完成时限") + 1
LIGHT_COLUMN = HEADERS.index("亮灯") + 1
VERSION_COLUMN = len(HEADERS) + 1
ID_COLUMN = len(HEADERS) + 2
HEADER_ROW = 2  # below the merged title row
# In the workbook's keywords: this file numbers 序号 1…N and keeps the id in 事项编号, so a
# copy whose hidden 事项编号 column was deleted is refused rather than read as an older
# export, which would take the running numbers for ids and change the wrong measures.
LEDGER_FORMAT = "督办台账:事项编号"

# What the import reads, by key in read_sheet's rows; "牵头单位" also matches a renamed column.
IMPORT_COLUMNS = {
    "id": (ID_HEADER,),
    "unit": ("责任领导/牵头单位", "牵头单位"),
    "owner": ("责任人",),
    "deadline": ("完成时限",),
    "status": ("状态",),
    "version": (VERSION_HEADER,),
}
IMPORT_FIELDS = ("unit", "owner", "deadline", "status")
HEADER_SEARCH_ROWS = 10
# The rows travel in the session between preview and apply; a ledger is a few hundred rows.
MAX_ROWS = 5000
# An upload is measured before openpyxl builds anything from it: a 1.3 MB file can declare
# millions of rows. The zip's declared sizes first (tracker.pipeline.read.check_archive), then
# each part's XML is counted as it inflates (no more than MAX_SHEET_ROWS rows, blank ones
# included, and as many cells and shared strings as a full ledger with a few added columns),
# then the sheet's declared dimension; reading stops at MAX_SHEET_ROWS whatever the file says.
# Parsing costs openpyxl about 20 µs a cell, so the cell limit also bounds the time.
MAX_SHEET_ROWS = 2 * MAX_ROWS
MAX_SHEET_CELLS = 16 * MAX_ROWS  # the export has 14 columns
MAX_SHARED_STRINGS = MAX_SHEET_CELLS
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_PART_BYTES = 30 * 1024 * 1024
MAX_CELL_CHARS = 200  # the imported columns are names, dates and numbers
MAX_ID = 2**63 - 1  # the largest primary key the databases store
IMPORT_NOTE = "Excel导入"

THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")


class SheetError(Exception):
    """The uploaded sheet cannot be used; the message is shown to the person as it is."""


TOO_MANY_ROWS = f"表格超过 {MAX_ROWS} 行，请分批导入。"
UNREADABLE = "无法读取该文件：请上传本系统导出的 .xlsx 台账（不支持 .xls 和 .csv）。"


# Export -----------------------------------------------------------------------------------

# Rows fetched per query: the export streams the queryset so 10,000 rows never sit in memory
# at once; with prefetches (co-units, joint lead units) each chunk costs three queries.
EXPORT_CHUNK = 500
# Paper names LEDGER_PAPER accepts, as the sheet's paperSize codes (ECMA-376 §18.18.43).
PAPER_SIZES = {"A4": 9, "A3": 8}
PAGE_FOOTER = "第 &P 页 / 共 &N 页"
MAX_PAGE_HEADER_CHARS = 100  # Excel refuses a header and footer of more than 255 characters
# Characters Windows, macOS or a mail client refuse or misread in a file name.
UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
MAX_FILENAME_FILTERS = 60
TITLE_ROW_HEIGHT = 30
TITLE_WITH_FILTERS_HEIGHT = 48


def export_queryset(measures):
    """The measures with everything a 台账 row shows, in three queries a chunk, order kept."""
    latest = latest_progress()
    return (
        measures.for_ledger()
        .annotate(
            latest_problems=Subquery(latest.values("problems")[:1]),
            latest_next_steps=Subquery(latest.values("next_steps")[:1]),
        )
        .prefetch_related("co_units")
    )


def export_rows(measures, today):
    """(序号, measure, light) in the queryset's order; 序号 counts from 1 whatever the ids."""
    rows = export_queryset(measures).iterator(chunk_size=EXPORT_CHUNK)
    for number, measure in enumerate(rows, start=1):
        yield number, measure, light_of(measure, today)


def row_values(number, measure, light):
    """One ledger row in COLUMNS order, from a measure of export_queryset()."""
    return [
        number,
        f"{measure.title}\n{measure.text}",
        f"{measure.document.title} › {measure.section.path}",
        measure.lead_units_display,
        "、".join(unit.name for unit in measure.co_units.all()),  # in the units' own order
        Measure.display_value("owner", measure.owner),
        measure.deadline,
        measure.get_status_display(),
        light.label,
        measure.latest_progress or "",
        measure.latest_problems or "",
        measure.latest_next_steps or "",
    ]


def export_xlsx(measures, *, today, title, filters=()):
    """The 台账 workbook of a Measure queryset (filtered and ordered as the page shows it).

    The queryset goes through export_queryset here, so the caller need not (it may).
    `filters` are the (label, value) pairs of FilterForm.active_filters(), shown under the title and in
    the printed page header. 序号 counts the rows; the import matches rows by the hidden
    事项编号 (the measure's id) and refuses stale ones by the hidden 版本.

    Written in openpyxl's write-only mode: rows go to a temporary file as they are made, so
    memory stays flat however long the ledger (10,000 rows add about 25 MB to the process).
    """
    workbook = Workbook(write_only=True)
    workbook.properties.title = "督办台账"
    workbook.properties.keywords = LEDGER_FORMAT
    sheet = workbook.create_sheet("督办台账")
    # A write-only sheet writes its properties (fit to page), columns, panes and the first
    # rows' heights when the first row is appended: all of them are set before.
    set_print_layout(sheet, repeat_row=HEADER_ROW)
    for column, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for column in (VERSION_COLUMN, ID_COLUMN):
        sheet.column_dimensions[get_column_letter(column)].hidden = True
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    description = filters_text(filters)
    sheet.row_dimensions[1].height = TITLE_WITH_FILTERS_HEIGHT if filters else TITLE_ROW_HEIGHT
    sheet.append([title_cell(sheet, title, description)])
    sheet.merged_cells.add(f"A1:{get_column_letter(len(HEADERS))}1")
    sheet.append([header_cell(sheet, label) for label in ALL_EXPORT_HEADERS])
    styles = RowStyles(sheet)
    last_row = HEADER_ROW
    for number, measure, light in export_rows(measures, today):
        values = [*row_values(number, measure, light), measure.version, measure.pk]
        sheet.append(styles.cells(values, light))
        last_row += 1
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(HEADERS))}{last_row}"
    sheet.oddHeader.left.text = page_header_text(f"导出日期：{today:%Y-%m-%d}")
    if description:
        sheet.oddHeader.right.text = page_header_text(description)
    return workbook_bytes(workbook)


def title_cell(sheet, title, description):
    text = xml_safe(title) + (f"\n{xml_safe(description)}" if description else "")
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    cell.font = Font(size=16, bold=True)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return cell


def header_cell(sheet, label):
    cell = WriteOnlyCell(sheet, label)
    cell.font = Font(bold=True)
    cell.fill = HEADER_FILL
    cell.border = BORDER
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return cell


class RowStyles:
    """Cells of a data row with the ledger's styles, made without a style lookup per cell.

    Styling a cell through its attributes looks each style up in the workbook's tables, which
    for 10,000 rows of 14 cells costs more than the rest of the export; the styles are looked
    up once here and their index arrays copied onto each cell.
    """

    def __init__(self, sheet):
        self.sheet = sheet
        plain = WriteOnlyCell(sheet)
        plain.border, plain.alignment = BORDER, WRAP
        dated = WriteOnlyCell(sheet)
        dated.border, dated.alignment = BORDER, WRAP
        dated.number_format = "yyyy-mm-dd"
        self.plain, self.dated = plain._style, dated._style
        self.lights = {}
        for light, colour in COLOURS.items():
            cell = WriteOnlyCell(sheet)
            cell.border, cell.alignment = BORDER, WRAP
            cell.fill = PatternFill("solid", fgColor=colour)
            self.lights[light] = cell._style

    def cells(self, values, light):
        cells = []
        for column, value in enumerate(values, start=1):
            cell = WriteOnlyCell(self.sheet, export_value(value))
            if isinstance(cell.value, str):
                # openpyxl turns any text starting with "=" into a formula; a title never is one.
                cell.data_type = "s"
            if column == DEADLINE_COLUMN:
                cell._style = copy(self.dated)
            elif column == LIGHT_COLUMN:
                cell._style = copy(self.lights[light])
            else:
                cell._style = copy(self.plain)
            cells.append(cell)
        return cells


def export_value(value):
    if isinstance(value, str):
        # A control character (\x0b, \x1f…) in a title or note cannot be written to XML at
        # all: openpyxl would raise and the whole export fail.
        value = xml_safe(value)
    return None if value == "" else value


def write_cell(sheet, row, column, value):
    """A bordered, wrapped cell of a normal (not write-only) sheet; text stays text."""
    value = export_value(value)
    cell = sheet.cell(row, column, value)
    if isinstance(value, str):
        cell.data_type = "s"
    cell.border = BORDER
    cell.alignment = WRAP
    return cell


def paper_size():
    """The paperSize code of settings.LEDGER_PAPER, for the 台账 and the 通报 alike."""
    name = str(settings.LEDGER_PAPER).strip().upper()
    if name not in PAPER_SIZES:
        raise ImproperlyConfigured(
            f"LEDGER_PAPER={settings.LEDGER_PAPER!r}: expected one of {', '.join(PAPER_SIZES)}."
        )
    return PAPER_SIZES[name]


def set_print_layout(sheet, *, repeat_row):
    """LEDGER_PAPER landscape, all columns on one page width, the header row on every page,
    page numbers in the footer."""
    sheet.page_setup.paperSize = paper_size()
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{repeat_row}:{repeat_row}"
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = PAGE_FOOTER


def page_header_text(text):
    """Plain text for a printed header: & starts a code there, and the length is capped."""
    text = xml_safe(text)
    if len(text) > MAX_PAGE_HEADER_CHARS:
        text = text[: MAX_PAGE_HEADER_CHARS - 1] + "…"
    return text.replace("&", "&&")


def workbook_bytes(workbook):
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# What was exported: the filters in the title and the file name ----------------------------


def filters_text(filters):
    """'筛选：状态 推进中；亮灯 红灯', or '' without filters."""
    if not filters:
        return ""
    return "筛选：" + "；".join(f"{label} {value}" for label, value in filters)


def export_filename(today, filters, extension, *, prefix="督办台账"):
    """督办台账_2026-11-23_推进中_红灯.xlsx: the day and what was filtered, safe as a file name.

    Only the values name the filters (the labels would double the length); a search shows as
    搜索-<words>. Characters file systems refuse become "-", and a long list is cut with "等".
    """
    parts = [f"搜索-{value}" if label == "搜索" else value for label, value in filters]
    tail = "_".join(filename_part(part) for part in parts)
    if len(tail) > MAX_FILENAME_FILTERS:
        tail = tail[:MAX_FILENAME_FILTERS].rstrip("_-") + "等"
    name = "_".join(part for part in (prefix, f"{today:%Y-%m-%d}", tail) if part)
    return f"{name}.{extension}"


def filename_part(text):
    text = UNSAFE_IN_FILENAME.sub("-", xml_safe(text))
    return re.sub(r"\s+", " ", text).strip(" .-")


def export_csv(measures, *, today):
    """The 台账 columns as CSV, with 事项编号 last; the BOM makes Excel read UTF-8, not GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((*HEADERS, ID_HEADER))
    for number, measure, light in export_rows(measures, today):
        values = [*row_values(number, measure, light), measure.pk]
        writer.writerow(csv_value(value) for value in values)
    return "\ufeff" + out.getvalue()


def csv_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, str):
        value = xml_safe(value)  # Excel stops reading a CSV at some control characters
    # Spreadsheet programs run CSV cells starting with these as formulas (CSV injection).
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


# Reading an upload ------------------------------------------------------------------------


def read_sheet(fileobj):
    """The import columns of every filled row of an uploaded .xlsx 台账, as plain strings.

    Returns dicts {"row", "id", "version", "owner", "unit", "deadline", "status"}; "row" is
    the Excel row number, everything else the cell's text (dates as YYYY-MM-DD). The file is
    checked and streamed (openpyxl's read-only mode), never loaded whole: an oversized one is
    refused after reading at most MAX_SHEET_ROWS rows of it.
    """
    raw = fileobj.read()
    check_size(raw)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl fails in many ways on a file that is no .xlsx
        raise SheetError(UNREADABLE) from error
    numbered = LEDGER_FORMAT in (workbook.properties.keywords or "")
    try:
        for sheet in workbook.worksheets:
            check_dimension(sheet)
            found = find_header(sheet, numbered=numbered)
            if found:
                return read_rows(sheet, *found)
    except SheetError:
        raise
    except Exception as error:  # a cell openpyxl cannot convert (a 5,000-digit number…)
        raise SheetError(UNREADABLE) from error
    finally:
        workbook.close()
    raise SheetError("找不到表头行：表格中应有“序号”“责任人”“完成时限”“状态”等列。")


def check_size(raw):
    """Refuse an archive whose parts are too big, or hold too many rows, before parsing it."""
    try:
        archive = check_archive(
            raw, "台账", max_total=MAX_UNPACKED_BYTES, max_member=MAX_PART_BYTES
        )
    except ImportProblem as problem:
        if "解压后超过" not in str(problem):
            raise SheetError(UNREADABLE) from problem
        raise SheetError(
            f"文件解压后超过 {MAX_UNPACKED_BYTES // 2**20} MB（或其中一个部分超过 "
            f"{MAX_PART_BYTES // 2**20} MB），远大于任何台账，已拒绝。"
            "请在本系统导出的台账上修改后上传。"
        ) from problem
    with archive:
        for member in archive.infolist():
            if member.filename.lower().endswith(".xml"):
                count_elements(archive, member)


# Opening tags of sheet rows and cells and of shared strings, with any namespace prefix.
ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|si)[\s/>]")
ELEMENT_LIMITS = {b"row": MAX_SHEET_ROWS, b"c": MAX_SHEET_CELLS, b"si": MAX_SHARED_STRINGS}
CHUNK = 256 * 1024
OVERLAP = 256  # a tag cut by a chunk boundary is counted in the next chunk


def count_elements(archive, member):
    """Count one part's rows, cells and strings while inflating it; stop past a limit."""
    counts = dict.fromkeys(ELEMENT_LIMITS, 0)
    tail = b""
    try:
        with archive.open(member) as part:
            while True:
                chunk = part.read(CHUNK)
                text = tail + chunk
                cut = len(text) if not chunk else max(len(text) - OVERLAP, 0)
                for match in ELEMENT.finditer(text, 0, cut + OVERLAP):
                    if match.start() >= cut:
                        break
                    name = match.group(1)
                    counts[name] += 1
                    if counts[name] > ELEMENT_LIMITS[name]:
                        raise SheetError(too_big_message(name))
                if not chunk:
                    return
                tail = text[cut:]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError) as error:
        raise SheetError(UNREADABLE) from error


def too_big_message(name):
    if name == b"row":
        return TOO_MANY_ROWS
    return f"表格内容过多（超出 {MAX_ROWS} 行台账的正常范围），请只保留台账工作表、分批导入。"


def check_dimension(sheet):
    """Refuse a sheet that declares too many rows; then read it by its rows, not its claim."""
    if (sheet.max_row or 0) > MAX_SHEET_ROWS:
        raise SheetError(
            f"工作表“{xml_safe(sheet.title)}”有 {sheet.max_row} 行，超过 {MAX_ROWS} 行，"
            "请分批导入（或删除表格末尾多余的行）。"
        )
    sheet.reset_dimensions()  # a wrong dimension must not hide rows: read to the real end


def find_header(sheet, *, numbered=False):
    """(header row number, {key: column index}) or None when this sheet has no header row.

    The header row is the first with 序号 or 事项编号. Rows are matched by 事项编号; without
    that column the sheet is an export from before it (or a sheet made by hand), whose 序号
    is the measure's id, unless the workbook says it is `numbered` (LEDGER_FORMAT): then
    序号 only counts rows and the missing column is an error.
    """
    for number, values in enumerate(
        sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1
    ):
        labels = {}
        for index, value in enumerate(values):
            labels.setdefault(re.sub(r"\s+", "", str(value or "")), index)
        if SEQUENCE_HEADER not in labels and ID_HEADER not in labels:
            continue
        columns = {
            key: next((labels[a] for a in aliases if a in labels), None)
            for key, aliases in IMPORT_COLUMNS.items()
        }
        if columns["id"] is None and not numbered:
            columns["id"] = labels[SEQUENCE_HEADER]
        missing = [IMPORT_COLUMNS[key][0] for key, index in columns.items() if index is None]
        if missing:
            raise SheetError(
                f"表头缺少“{'”“'.join(missing)}”列。请在本系统导出的台账上修改后上传，"
                "不要删除列（“版本”“事项编号”为隐藏列）。"
            )
        return number, columns
    return None


def read_rows(sheet, header_row, columns):
    rows = []
    width = max(columns.values()) + 1
    cells = sheet.iter_rows(
        min_row=header_row + 1, max_row=MAX_SHEET_ROWS + 1, max_col=width, values_only=True
    )
    for number, values in enumerate(cells, start=header_row + 1):
        if number > MAX_SHEET_ROWS:  # openpyxl yields this row only when the sheet goes on
            raise SheetError(TOO_MANY_ROWS)
        row = {key: cell_text(values[index]) for key, index in columns.items()}
        if not any(row.values()):
            continue
        if len(rows) == MAX_ROWS:
            raise SheetError(TOO_MANY_ROWS)
        rows.append({"row": number, **row})
    return rows


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # ids and 版本 come back as 12.0 from some editors
    # XML-forbidden characters go, and the length is bounded: the rows travel in the session.
    return xml_safe(str(value)).strip()[:MAX_CELL_CHARS]


# Planning and applying an import ----------------------------------------------------------


@dataclass(frozen=True)
class RowChange:
    row: int
    measure: Measure
    field: str
    old: str
    new: str
    value: object

    @property
    def label(self):
        return Measure._meta.get_field(self.field).verbose_name


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def __str__(self):
        return f"第{self.row}行：{self.message}"


@dataclass
class Plan:
    changes: list[RowChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def measure_count(self):
        return len({change.measure.pk for change in self.changes})


class Invalid(Exception):
    """One cell cannot be imported; the message names what to do."""


def plan_import(rows, user):
    """What importing `rows` (from read_sheet) as `user` would change, and what is wrong.

    Four queries whatever the number of rows: the measures, units, users and the user's
    roles. Cells equal to the current values change nothing and are never checked.
    """
    return Planner(rows, user).plan()


class Planner:
    def __init__(self, rows, user):
        self.rows = rows
        self.user = user
        ids = {parse_id(row["id"]) for row in rows} - {None}
        self.measures = (
            Measure.objects.active()
            .select_related("owner", "unit")
            .prefetch_related("joint_units")
            .in_bulk(ids)
        )
        self.units = {unit.name: unit for unit in Unit.objects.all()}
        self.usernames, self.names = {}, defaultdict(list)
        # The people the edit and bulk forms offer as 责任人: never a leader who only reads.
        for person in User.objects.assignable():
            self.usernames[person.username] = person
            self.names[str(person)].append(person)

    def plan(self):
        plan = Plan()
        first_row = {}
        for row in self.rows:
            try:
                measure = self.measure(row, first_row)
                changes = self.row_changes(row, measure)
            except Invalid as invalid:
                plan.errors.append(RowError(row["row"], str(invalid)))
                continue
            plan.changes.extend(changes)
        return plan

    def measure(self, row, first_row):
        number = row["id"]
        if not number:
            raise Invalid("缺少事项编号；导入只能修改台账中已有的事项，不能新增。")
        measure = self.measures.get(parse_id(number))
        if measure is None:
            shown = number if len(number) <= 20 else number[:20] + "…"
            raise Invalid(
                f"事项编号“{shown}”没有对应的督办事项（可能已归档），"
                "请在本系统新导出的台账上修改，不要改动隐藏的“事项编号”列。"
            )
        if measure.pk in first_row:
            raise Invalid(
                f"事项编号 {number} 与第{first_row[measure.pk]}行重复（同一事项出现两次）。"
            )
        first_row[measure.pk] = row["row"]
        return measure

    def row_changes(self, row, measure):
        """All of a row's changes, or Invalid naming every problem in it."""
        changes, problems = [], []
        for name in IMPORT_FIELDS:
            old = getattr(measure, name)
            # The export writes every lead unit (甲、乙); the sheet sets the first one.
            shown = measure.lead_units_display if name == "unit" else None
            if row[name] in (Measure.display_value(name, old), shown):
                continue
            try:
                value = self.value(measure, name, row[name])
            except Invalid as invalid:
                problems.append(str(invalid))
                continue
            if value != old:  # "2026-1-5" or a username can still mean the current value
                new = Measure.display_value(name, value)
                old_text = Measure.display_value(name, old)
                changes.append(RowChange(row["row"], measure, name, old_text, new, value))
        if changes and row["version"] != str(measure.version):
            problems.append(stale_message(row, measure))
        if problems:
            raise Invalid("；".join(dict.fromkeys(problems)))
        return changes

    def value(self, measure, name, text):
        allowed = self.user.editable_fields(measure)
        if not allowed:
            raise Invalid("您不是此事项的责任人，也不在其牵头单位，无权修改。")
        if name not in allowed:
            label = Measure._meta.get_field(name).verbose_name
            raise Invalid(f"您无权修改此事项的“{label}”。")
        if name == "unit":
            return self.unit(text)
        if name == "owner":
            return self.owner(text)
        if name == "deadline":
            return parse_date(text)
        status = parse_status(text)
        check_status(self.user, measure, status)
        return status

    def unit(self, text):
        if not text:
            return None
        if text not in self.units:
            raise Invalid(f"找不到牵头单位“{text}”，请填写系统中的单位全称。")
        return self.units[text]

    def owner(self, text):
        if not text:
            return None
        if text in self.usernames:
            return self.usernames[text]
        by_name = self.names.get(text, [])
        if len(by_name) > 1:
            raise Invalid(f"责任人“{text}”有重名，请改填其用户名。")
        if not by_name:
            raise Invalid(f"找不到责任人“{text}”，请填写系统中责任人或督查员的姓名或用户名。")
        return by_name[0]


def parse_id(text):
    """The measure id a 事项编号 cell names, or None: 99999999999999999999 is no id, not a 500."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def stale_message(row, measure):
    if not row["version"].isdecimal():
        return "缺少版本号（隐藏的“版本”列），请在本系统导出的台账上修改后再导入。"
    return (
        f"该事项在导出后已被修改（导出时为第{row['version']}版，现为第{measure.version}版），"
        "请重新导出台账，在新表上修改后再导入。"
    )


def parse_date(text):
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        try:
            return datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            pass  # 2026-02-30: shaped like a date but none
    raise Invalid(f"完成时限“{text}”不是有效日期，请按 YYYY-MM-DD 填写（如 2026-12-31）。")


def parse_status(text):
    for status in Measure.Status:
        if status.label == text:
            return status.value
    choices = "、".join(s.label for s in Measure.Status if s != Measure.Status.PENDING_REVIEW)
    problem = f"状态“{text}”无效" if text else "状态不能为空"
    raise Invalid(f"{problem}，可填：{choices}。")


def check_status(user, measure, status):
    """The same statuses the edit form allows (User.allowed_statuses): 待审核 is reached only by
    asking for sign-off, 已办结 by sign-off or a supervisor's 直接销号 with a note, and staff
    move only a measure that is 未启动 or 推进中, between those."""
    if status in user.allowed_statuses(measure):
        return
    if status == Measure.Status.PENDING_REVIEW:
        raise Invalid("“待审核”只能通过提交办结申请进入，不能导入。")
    if status == Measure.Status.DONE and user.is_supervisor:
        raise Invalid("“已办结”须经办结审核，或在事项页直接销号并填写说明，不能导入。")
    if measure.status not in Measure.STAFF_STATUSES:
        raise Invalid(f"此事项为“{measure.get_status_display()}”，状态只能由督查员改变。")
    raise Invalid("责任人只能把状态设为“未启动”或“推进中”；办结请提交办结申请。")


def apply_plan(plan, user):
    """Apply a plan without errors in one transaction; returns how many measures changed.

    Each measure is saved through Measure.edit (version check and history). If any of them
    was changed after the plan was made, nothing is applied.
    """
    if plan.errors:
        raise SheetError("表格中有错误，请改正后重新上传；本次未导入任何内容。")
    edits = {}
    for change in plan.changes:
        _, _, changes = edits.setdefault(change.measure.pk, (change.row, change.measure, {}))
        changes[change.field] = change.value
    changed = 0
    with transaction.atomic():
        for row, measure, changes in edits.values():
            try:
                history = measure.edit(user, changes, measure.version, note=IMPORT_NOTE)
            except Measure.Conflict as conflict:
                raise SheetError(
                    f"第{row}行（事项编号 {measure.pk}）的事项刚被他人修改，本次导入已全部撤销。"
                    "请重新导出台账后再导入。"
                ) from conflict
            changed += bool(history)
    return changed
