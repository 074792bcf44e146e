"""The Excel 台账: export layout, CSV, and the import round trip with its refusals."""

import csv
import io
import json
import time
import tracemalloc
import zipfile
from datetime import date, datetime
from urllib.parse import unquote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from tracker.models import Change, Measure, ProgressUpdate
from tracker.spreadsheets import (
    ALL_EXPORT_HEADERS,
    HEADERS,
    MAX_ROWS,
    SheetError,
    apply_plan,
    cell_text,
    export_csv,
    export_filename,
    export_xlsx,
    plan_import,
    read_sheet,
)

from .conftest import TODAY, make_measure

pytestmark = pytest.mark.django_db
TITLE = "督办事项台账（截至2026-11-22）"
ALL_HEADERS = list(ALL_EXPORT_HEADERS)


@pytest.fixture
def ledger(measure, care_measure, units, staff):
    """Two measures: `measure` (red, with co-units and a report) and `care_measure`."""
    measure.co_units.set([units["care"], units["office"]])
    ProgressUpdate.objects.create(
        measure=measure,
        author=staff,
        progress="已完成摸底",
        problems="人手不足",
        next_steps="月底前复核",
        percent=40,
    )
    return Measure.objects.filter(pk__in=[measure.pk, care_measure.pk]).order_by("pk")


def workbook_of(measures):
    return load_workbook(io.BytesIO(export_xlsx(measures, today=TODAY, title=TITLE)))


def row_of(sheet, measure):
    """The Excel row number of a measure in an exported sheet, by its hidden 事项编号."""
    return next(cell.row for cell in sheet["N"] if cell.value == measure.pk)


def column_of(sheet, label):
    return ALL_HEADERS.index(label) + 1


def upload(workbook):
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def edited(measures, edits):
    """An exported sheet with cells changed: edits maps (measure, header label) to a value."""
    workbook = workbook_of(measures)
    sheet = workbook.active
    for (measure, label), value in edits.items():
        sheet.cell(row_of(sheet, measure), column_of(sheet, label), value)
    return upload(workbook)


# Export -----------------------------------------------------------------------------------


def test_xlsx_has_title_header_frozen_pane_and_hidden_version(ledger):
    sheet = workbook_of(ledger).active
    assert sheet["A1"].value == TITLE
    assert "A1:L1" in {str(r) for r in sheet.merged_cells.ranges}
    assert [cell.value for cell in sheet[2]] == ALL_HEADERS
    assert ALL_HEADERS[-2:] == ["版本", "事项编号"]
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["M"].hidden and sheet.column_dimensions["N"].hidden
    assert not sheet.column_dimensions["B"].hidden and sheet.column_dimensions["B"].width > 30


def test_xlsx_prints_on_a4_landscape_fit_to_width_with_the_header_repeated(ledger):
    sheet = workbook_of(ledger).active
    assert sheet.page_setup.paperSize == 9  # A4, the LEDGER_PAPER default
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$2:$2"


def test_xlsx_rows_show_the_ledger_with_lights_and_real_dates(ledger, measure, care_measure):
    sheet = workbook_of(ledger).active
    row = [cell for cell in sheet[row_of(sheet, measure)]]
    assert [cell.value for cell in row] == [
        1,
        "健全低保动态管理机制\n一是健全低保动态管理机制。",
        "测试方案 › 做好社会救助",
        "社会救助司",
        "办公厅、养老服务司",
        "Zhangmin",
        datetime(2026, 10, 31),
        "未启动",
        "红灯",
        "已完成摸底",
        "人手不足",
        "月底前复核",
        1,
        measure.pk,
    ]
    deadline, light = row[column_of(sheet, "完成时限") - 1], row[column_of(sheet, "亮灯") - 1]
    assert deadline.is_date and deadline.number_format == "yyyy-mm-dd"
    assert light.fill.fgColor.rgb.endswith("F4C7C3")
    care = sheet[row_of(sheet, care_measure)]
    assert care[column_of(sheet, "亮灯") - 1].value == "绿灯"
    assert care[column_of(sheet, "亮灯") - 1].fill.fgColor.rgb.endswith("B7E1CD")
    assert all(cell.alignment.wrap_text and cell.border.left.style == "thin" for cell in row)


def test_text_that_looks_like_a_formula_is_exported_as_text(document, units):
    hostile = make_measure(document, 9, '=HYPERLINK("http://x","点我")', unit=units["aid"])
    sheet = workbook_of(Measure.objects.filter(pk=hostile.pk)).active
    cell = sheet.cell(3, column_of(sheet, "任务内容"))
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    text = export_csv(Measure.objects.filter(pk=hostile.pk), today=TODAY)
    assert "'=HYPERLINK" in text


def test_export_query_count_does_not_grow_with_the_ledger(
    document, units, staff, django_assert_max_num_queries
):
    for position in range(10, 40):
        extra = make_measure(document, position, f"事项{position}", unit=units["aid"], owner=staff)
        extra.co_units.set([units["care"]])
        ProgressUpdate.objects.create(measure=extra, author=staff, progress="推进", percent=10)
    # The rows, their co-units and their joint lead units: three queries for each chunk of
    # EXPORT_CHUNK rows (one chunk here).
    with django_assert_max_num_queries(3):
        export_xlsx(Measure.objects.all(), today=TODAY, title=TITLE)
    with django_assert_max_num_queries(3):
        export_csv(Measure.objects.all(), today=TODAY)


def test_csv_has_a_bom_and_the_ledger_columns_without_title(ledger, measure):
    text = export_csv(ledger, today=TODAY)
    assert text.startswith("\ufeff序号,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [*HEADERS, "事项编号"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["序号"], first["事项编号"]) == ("1", str(measure.pk))
    assert first["完成时限"] == "2026-10-31"
    assert first["亮灯"] == "红灯"
    assert first["配合单位"] == "办公厅、养老服务司"
    assert len(rows) == 3


# Reading an upload ------------------------------------------------------------------------


def test_read_sheet_returns_the_import_columns_of_every_row(ledger, measure, care_measure):
    rows = read_sheet(edited(ledger, {}))
    assert rows == [
        {
            "row": 3,
            "id": str(measure.pk),
            "version": "1",
            "owner": "Zhangmin",
            "unit": "社会救助司",
            "deadline": "2026-10-31",
            "status": "未启动",
        },
        {
            "row": 4,
            "id": str(care_measure.pk),
            "version": "1",
            "owner": "Liuyang",
            "unit": "养老服务司",
            "deadline": "",
            "status": "未启动",
        },
    ]
    assert json.loads(json.dumps(rows)) == rows


def test_read_sheet_finds_the_header_by_label_without_title_and_in_any_order(measure):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["状态", "版本", "完成时限", "备注", "牵头单位", "责任人", "序号"])
    sheet.append(["推进中", 1, "2027-3-1", "随手记", "社会救助司", "zhangmin", measure.pk])
    sheet.append([None] * 7)  # blank rows are skipped
    assert read_sheet(upload(workbook)) == [
        {
            "row": 2,
            "id": str(measure.pk),
            "version": "1",
            "owner": "zhangmin",
            "unit": "社会救助司",
            "deadline": "2027-3-1",
            "status": "推进中",
        }
    ]


def test_a_file_that_is_not_an_xlsx_is_refused_in_chinese():
    with pytest.raises(SheetError, match="无法读取该文件"):
        read_sheet(io.BytesIO("序号,状态\n1,推进中\n".encode()))


def test_a_sheet_without_the_header_row_is_refused():
    workbook = Workbook()
    workbook.active.append(["任务", "进展"])
    with pytest.raises(SheetError, match="找不到表头行"):
        read_sheet(upload(workbook))


def test_a_sheet_missing_the_version_column_is_refused(ledger):
    workbook = workbook_of(ledger)
    workbook.active.delete_cols(column_of(workbook.active, "版本"))
    with pytest.raises(SheetError, match="“版本”"):
        read_sheet(upload(workbook))


# The round trip ---------------------------------------------------------------------------


def test_round_trip_previews_and_applies_exactly_the_edited_cells(
    ledger, measure, care_measure, supervisor, other_staff
):
    upload_file = edited(
        ledger,
        {
            (measure, "责任人"): "Liuyang",
            (measure, "责任领导/牵头单位"): "养老服务司",
            (measure, "完成时限"): datetime(2026, 12, 31),
            (care_measure, "完成时限"): "2027-01-15",
            (care_measure, "状态"): "暂缓",
        },
    )
    rows = read_sheet(upload_file)
    plan = plan_import(rows, supervisor)
    assert plan.errors == []
    assert [(c.row, c.measure.pk, c.field, c.old, c.new) for c in plan.changes] == [
        (3, measure.pk, "unit", "社会救助司", "养老服务司"),
        (3, measure.pk, "owner", "Zhangmin", "Liuyang"),
        (3, measure.pk, "deadline", "2026-10-31", "2026-12-31"),
        (4, care_measure.pk, "deadline", "", "2027-01-15"),
        (4, care_measure.pk, "status", "未启动", "暂缓"),
    ]
    assert plan.changes[1].value == other_staff and plan.changes[1].label == "责任人"
    assert plan.measure_count == 2

    assert apply_plan(plan_import(rows, supervisor), supervisor) == 2
    measure.refresh_from_db()
    care_measure.refresh_from_db()
    assert (measure.owner, measure.unit.name, measure.deadline) == (
        other_staff,
        "养老服务司",
        date(2026, 12, 31),
    )
    assert (care_measure.deadline, care_measure.status) == (date(2027, 1, 15), "suspended")
    assert (measure.version, care_measure.version) == (2, 2)
    history = Change.objects.filter(note="Excel导入", user=supervisor)
    assert history.count() == 5
    assert set(history.values_list("field", flat=True)) == {"unit", "owner", "deadline", "status"}


def test_an_unedited_export_plans_no_changes(ledger, supervisor):
    plan = plan_import(read_sheet(edited(ledger, {})), supervisor)
    assert (plan.changes, plan.errors) == ([], [])
    assert apply_plan(plan, supervisor) == 0


def test_an_owner_typed_by_username_that_is_already_the_owner_is_no_change(
    ledger, measure, supervisor
):
    plan = plan_import(read_sheet(edited(ledger, {(measure, "责任人"): "zhangmin"})), supervisor)
    assert (plan.changes, plan.errors) == ([], [])


def test_a_leader_cannot_be_made_owner_through_the_sheet(ledger, measure, supervisor, leader):
    plan = plan_import(read_sheet(edited(ledger, {(measure, "责任人"): "lingdao"})), supervisor)
    (error,) = plan.errors
    assert "找不到责任人“lingdao”" in error.message and not plan.changes


def test_every_bad_row_is_listed_with_its_row_number_and_nothing_is_applied(
    document, ledger, measure, care_measure, units, supervisor
):
    third = make_measure(document, 3, "第三项", unit=units["aid"])
    fourth = make_measure(document, 4, "第四项", unit=units["aid"])
    sheet_measures = Measure.objects.filter(
        pk__in=[measure.pk, care_measure.pk, third.pk, fourth.pk]
    ).order_by("pk")
    upload_file = edited(
        sheet_measures,
        {
            (measure, "事项编号"): 99999,
            (care_measure, "完成时限"): "2026-02-30",
            (third, "责任人"): "查无此人",
            (fourth, "状态"): "待审核",
        },
    )
    third.edit(supervisor, {"deadline": date(2027, 6, 30)}, 1)  # changed after the export
    workbook = load_workbook(upload_file)
    workbook.active.cell(row_of(workbook.active, third), column_of(workbook.active, "状态"), "暂缓")
    rows = read_sheet(upload(workbook))
    versions_before = dict(Measure.objects.values_list("pk", "version"))

    plan = plan_import(rows, supervisor)

    messages = {error.row: error.message for error in plan.errors}
    assert sorted(messages) == [3, 4, 5, 6]
    assert "事项编号“99999”没有对应的督办事项" in messages[3]
    assert "2026-02-30" in messages[4] and "YYYY-MM-DD" in messages[4]
    assert "找不到责任人“查无此人”" in messages[5]
    assert "重新导出" in messages[5]  # the same row is also stale
    assert "待审核" in messages[6]
    assert str(plan.errors[0]).startswith("第3行：")
    with pytest.raises(SheetError, match="未导入任何内容"):
        apply_plan(plan, supervisor)
    assert not Change.objects.filter(note="Excel导入").exists()
    assert dict(Measure.objects.values_list("pk", "version")) == versions_before


def test_a_stale_row_asks_for_a_fresh_export(ledger, measure, supervisor, staff):
    upload_file = edited(ledger, {(measure, "完成时限"): "2027-01-31"})
    measure.edit(staff, {"status": Measure.Status.IN_PROGRESS}, 1)
    plan = plan_import(read_sheet(upload_file), supervisor)
    assert plan.changes == []
    # The sheet's 未启动 is the value from before the online edit: also refused as stale.
    assert [error.row for error in plan.errors] == [3]
    assert "导出时为第1版，现为第2版" in plan.errors[0].message
    assert "重新导出台账" in plan.errors[0].message


def test_a_repeated_id_is_an_error_on_the_later_row(ledger, measure, care_measure, supervisor):
    rows = read_sheet(edited(ledger, {(care_measure, "事项编号"): measure.pk}))
    messages = [str(error) for error in plan_import(rows, supervisor).errors]
    assert messages == [f"第4行：事项编号 {measure.pk} 与第3行重复（同一事项出现两次）。"]


def test_an_archived_measure_is_not_matched(ledger, care_measure, supervisor):
    rows = read_sheet(edited(ledger, {}))
    Measure.objects.filter(pk=care_measure.pk).update(archived_at=timezone.now())
    [error] = plan_import(rows, supervisor).errors
    assert error.row == 4 and "没有对应的督办事项" in error.message


def test_a_concurrent_edit_between_preview_and_apply_rolls_everything_back(
    ledger, measure, care_measure, supervisor, staff
):
    rows = read_sheet(
        edited(ledger, {(measure, "完成时限"): "2027-01-31", (care_measure, "状态"): "推进中"})
    )
    plan = plan_import(rows, supervisor)
    care_measure.edit(staff, {"status": Measure.Status.IN_PROGRESS}, 1)  # after the preview
    with pytest.raises(SheetError, match="第4行"):
        apply_plan(plan, supervisor)
    measure.refresh_from_db()
    assert measure.deadline == date(2026, 10, 31) and measure.version == 1
    assert not Change.objects.filter(note="Excel导入").exists()


def test_plan_import_query_count_does_not_grow_with_the_rows(
    document, units, staff, supervisor, django_assert_max_num_queries
):
    for position in range(10, 40):
        make_measure(document, position, f"事项{position}", unit=units["aid"], owner=staff)
    rows = read_sheet(edited(Measure.objects.all(), {}))
    for row in rows:
        row["deadline"], row["owner"], row["unit"] = "2027-01-01", "ducha", "办公厅"
    # The measures with their joint lead units, the units, the users, the user's groups.
    with django_assert_max_num_queries(5):
        plan = plan_import(rows, supervisor)
    assert len(plan.changes) == 90 and plan.errors == []


# Permissions ------------------------------------------------------------------------------


def test_staff_may_only_move_their_own_measures_between_staff_statuses(
    ledger, measure, care_measure, staff
):
    upload_file = edited(ledger, {(measure, "状态"): "推进中"})
    plan = plan_import(read_sheet(upload_file), staff)
    assert [(c.field, c.new) for c in plan.changes] == [("status", "推进中")]
    assert apply_plan(plan, staff) == 1
    assert Change.objects.get(note="Excel导入").user == staff


def test_staff_cannot_change_owner_unit_or_deadline_by_import(ledger, measure, staff):
    upload_file = edited(
        ledger,
        {
            (measure, "责任人"): "Liuyang",
            (measure, "责任领导/牵头单位"): "养老服务司",
            (measure, "完成时限"): "2027-01-31",
        },
    )
    plan = plan_import(read_sheet(upload_file), staff)
    assert plan.changes == []
    [error] = plan.errors
    assert error.row == 3
    for label in ("牵头单位", "责任人", "完成时限"):
        assert f"无权修改此事项的“{label}”" in error.message


def test_staff_cannot_close_a_measure_or_touch_another_units_one(
    ledger, measure, care_measure, staff
):
    upload_file = edited(ledger, {(measure, "状态"): "已办结", (care_measure, "状态"): "推进中"})
    errors = plan_import(read_sheet(upload_file), staff).errors
    assert [(e.row, e.message) for e in errors] == [
        (3, "责任人只能把状态设为“未启动”或“推进中”；办结请提交办结申请。"),
        (4, "您不是此事项的责任人，也不在其牵头单位，无权修改。"),
    ]


def test_nobody_may_close_or_set_pending_review_by_import(
    ledger, measure, care_measure, supervisor
):
    upload_file = edited(ledger, {(measure, "状态"): "已办结", (care_measure, "状态"): "待审核"})
    plan = plan_import(read_sheet(upload_file), supervisor)
    assert plan.changes == []
    assert [(e.row, e.message) for e in plan.errors] == [
        (3, "“已办结”须经办结审核，或在事项页直接销号并填写说明，不能导入。"),
        (4, "“待审核”只能通过提交办结申请进入，不能导入。"),
    ]


def test_staff_cannot_reopen_a_closed_measure_by_import(ledger, measure, staff):
    upload_file = edited(ledger, {(measure, "状态"): "推进中"})
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.DONE)
    plan = plan_import(read_sheet(upload_file), staff)
    assert plan.changes == []
    [error] = plan.errors
    assert "状态只能由督查员改变" in error.message


# Hostile uploads (issue 8) -----------------------------------------------------------------

CONTROL = "\x0b\x0c\x01\x1f"
IMPORT_HEADER = ["序号", "责任领导/牵头单位", "责任人", "完成时限", "状态", "版本"]


def xlsx_file(sheet_rows, *, dimension=None, compress=True):
    """A minimal .xlsx built as a zip, the way a hostile file is: no openpyxl involved.

    `sheet_rows` yields the <row> elements' XML (see `row_xml`); `dimension` is the declared
    ref ("A1:F100000") or None for no <dimension> element.
    """
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="督办台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            head = f"<worksheet {ns}>"
            if dimension:
                head += f'<dimension ref="{dimension}"/>'
            sheet.write((head + "<sheetData>").encode())
            batch = []
            for row in sheet_rows:
                batch.append(row)
                if len(batch) == 10_000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())
    out.seek(0)
    return out


def row_xml(number, values):
    """One <row>: numbers as numbers, text as inline strings."""
    cells = []
    for column, value in zip("ABCDEF", values, strict=False):
        ref = f"{column}{number}"
        if isinstance(value, int):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif value:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def import_sheet(rows, **options):
    """A sheet of IMPORT_HEADER and `rows` (lists in that column order)."""
    lines = [row_xml(1, IMPORT_HEADER)]
    lines += [row_xml(number, values) for number, values in enumerate(rows, start=2)]
    return xlsx_file(lines, **options)


def many_rows(count):
    yield row_xml(1, IMPORT_HEADER)
    for number in range(2, count + 2):
        yield row_xml(number, [number, "社会救助司", "张敏", "", "推进中", 1])


def measured(function, *args):
    """(result or raised exception, seconds, peak traced MB) of one call."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = function(*args)
    except Exception as error:
        result = error
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def test_a_100000_row_sheet_is_refused_in_under_2_seconds_without_loading_it():
    upload_file = xlsx_file(many_rows(100_000), dimension="A1:F100001")
    result, seconds, peak = measured(read_sheet, upload_file)
    print(f"refused in {seconds:.3f} s, peak {peak:.1f} MB")
    assert isinstance(result, SheetError)
    assert f"超过 {MAX_ROWS} 行" in str(result)
    assert seconds < 2
    assert peak < 50  # megabytes; loading the sheet whole took gigabytes


def test_a_sheet_without_a_dimension_is_stopped_while_streaming():
    upload_file = xlsx_file(many_rows(100_000))
    result, seconds, peak = measured(read_sheet, upload_file)
    assert isinstance(result, SheetError) and f"超过 {MAX_ROWS} 行" in str(result)
    assert seconds < 2 and peak < 50


def test_a_compact_3_million_row_sheet_is_refused_by_its_unpacked_size():
    upload_file = xlsx_file(["<row><c><v>1</v></c></row>" * 10_000] * 300)
    assert len(upload_file.getvalue()) < 2 * 2**20  # about 1 MB on disk
    result, seconds, peak = measured(read_sheet, upload_file)
    assert isinstance(result, SheetError) and "解压后超过" in str(result)
    assert seconds < 2 and peak < 50


def test_a_sheet_declaring_a_huge_dimension_is_refused_before_reading_rows():
    upload_file = import_sheet([[1, "社会救助司", "张敏", "", "推进中", 1]], dimension="A1:F900000")
    with pytest.raises(SheetError, match="有 900000 行"):
        read_sheet(upload_file)


def test_a_row_far_below_the_limit_is_refused_not_skipped():
    lines = [row_xml(1, IMPORT_HEADER), row_xml(2, [1, "社会救助司", "", "", "推进中", 1])]
    lines.append(row_xml(50_000, [2, "社会救助司", "", "", "推进中", 1]))
    with pytest.raises(SheetError, match=f"超过 {MAX_ROWS} 行"):
        read_sheet(xlsx_file(lines))


def test_a_dimension_that_understates_the_rows_hides_none_of_them():
    rows = [[n, "社会救助司", "", "", "推进中", 1] for n in range(1, 6)]
    assert [row["id"] for row in read_sheet(import_sheet(rows, dimension="A1:F2"))] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]


def test_more_than_the_row_limit_of_filled_rows_is_refused():
    with pytest.raises(SheetError, match=f"超过 {MAX_ROWS} 行"):
        read_sheet(xlsx_file(many_rows(MAX_ROWS + 1), dimension=f"A1:F{MAX_ROWS + 2}"))


def test_a_zip_that_is_no_workbook_is_refused_as_unreadable():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "不是台账")
    out.seek(0)
    with pytest.raises(SheetError, match="无法读取该文件"):
        read_sheet(out)


def test_a_huge_number_as_id_is_an_error_for_that_row(ledger, measure, supervisor):
    huge = 99999999999999999999
    upload_file = import_sheet(
        [
            [huge, "养老服务司", "Zhangmin", "2026-10-31", "未启动", 1],
            [measure.pk, "养老服务司", "Zhangmin", "2026-10-31", "未启动", 1],
        ]
    )
    rows = read_sheet(upload_file)
    assert rows[0]["id"] == str(huge)
    plan = plan_import(rows, supervisor)
    assert [(error.row, error.message) for error in plan.errors] == [
        (
            2,
            f"事项编号“{huge}”没有对应的督办事项（可能已归档），"
            "请在本系统新导出的台账上修改，不要改动隐藏的“事项编号”列。",
        )
    ]
    assert [(c.row, c.field, c.new) for c in plan.changes] == [(3, "unit", "养老服务司")]


@pytest.mark.parametrize("number", ["1E+20", "1e308", "-5", "9223372036854775808"])
def test_out_of_range_numbers_in_any_column_are_row_errors(ledger, measure, supervisor, number):
    lines = [
        row_xml(1, IMPORT_HEADER),
        f'<row r="2"><c r="A2"><v>{number}</v></c><c r="B2"><v>{number}</v></c>'
        f'<c r="C2"><v>{number}</v></c><c r="D2"><v>{number}</v></c>'
        f'<c r="E2"><v>{number}</v></c><c r="F2"><v>{number}</v></c></row>',
    ]
    plan = plan_import(read_sheet(xlsx_file(lines)), supervisor)
    assert [error.row for error in plan.errors] == [2] and plan.changes == []
    assert "没有对应的督办事项" in plan.errors[0].message


def test_an_uploaded_sheet_with_a_huge_id_shows_the_row_error_not_a_500(
    client, ledger, measure, supervisor
):
    client.force_login(supervisor)
    upload_file = import_sheet([[99999999999999999999, "养老服务司", "", "", "未启动", 1]])
    upload_file.name = "台账.xlsx"
    response = client.post("/measures/import/", {"file": upload_file})
    assert response.status_code == 200
    assert "事项编号“99999999999999999999”没有对应的督办事项" in response.content.decode()


def test_control_characters_are_cleared_from_imported_cells():
    assert cell_text(f"社会{CONTROL}救助司 ") == "社会    救助司"
    assert cell_text("\ufffe推进中") == "推进中"


def test_control_characters_in_titles_and_notes_do_not_break_the_export(
    document, units, staff, client, supervisor
):
    hostile = make_measure(document, 9, f"标题{CONTROL}结束", unit=units["aid"], owner=staff)
    ProgressUpdate.objects.create(
        measure=hostile, author=staff, progress=f"进展{CONTROL}", problems="\x08问题", percent=5
    )
    measures = Measure.objects.filter(pk=hostile.pk)
    sheet = load_workbook(
        io.BytesIO(export_xlsx(measures, today=TODAY, title=f"台账{CONTROL}"))
    ).active
    assert sheet["A1"].value == "台账    "
    assert sheet.cell(3, column_of(sheet, "任务内容")).value.startswith("标题    结束")
    assert sheet.cell(3, column_of(sheet, "进展情况")).value == "进展    "
    assert CONTROL[0] not in export_csv(measures, today=TODAY)
    client.force_login(supervisor)
    assert client.get("/measures/export.xlsx").status_code == 200
    assert client.get("/measures/export.csv").status_code == 200


def test_control_characters_in_a_unit_name_do_not_break_the_monthly_report(document, staff):
    from tracker.models import Unit
    from tracker.reports import monthly_report, report_xlsx

    unit = Unit.objects.create(name=f"社会{CONTROL}事务司", position=9)
    make_measure(document, 9, "事项", unit=unit, owner=staff)
    report = monthly_report(2026, 11, today=TODAY)
    sheet = load_workbook(io.BytesIO(report_xlsx(report))).active
    names = [cell.value for cell in sheet["B"]]
    assert "社会    事务司" in names


def test_a_sheet_with_too_many_cells_is_refused_before_parsing():
    wide = "<c><v>1</v></c>" * 50  # 2,000 rows of 50 cells: 100,000 cells
    upload_file = xlsx_file([row_xml(1, IMPORT_HEADER)] + [f"<row>{wide}</row>"] * 2_000)
    result, seconds, _ = measured(read_sheet, upload_file)
    assert isinstance(result, SheetError) and "表格内容过多" in str(result)
    assert seconds < 2


def test_a_measure_with_joint_lead_units_round_trips_unchanged(supervisor, measure, units):
    from tracker.spreadsheets import plan_import, read_sheet

    measure.joint_units.set([units["care"]])
    content = export_xlsx(Measure.objects.filter(pk=measure.pk), today=TODAY, title=TITLE)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.cell(3, column_of(sheet, "责任领导/牵头单位")).value == "社会救助司、养老服务司"
    upload = io.BytesIO(content)
    upload.name = "台账.xlsx"
    plan = plan_import(read_sheet(upload), supervisor)
    assert plan.errors == [] and plan.changes == []


# Numbering, print setup and naming (issue: export for print) -----------------------------


def export_of(measures, filters=()):
    content = export_xlsx(measures, today=TODAY, title=TITLE, filters=filters)
    return load_workbook(io.BytesIO(content)).active


def test_sequence_numbers_follow_the_export_order_and_ids_sit_in_a_hidden_column(document, units):
    made = [make_measure(document, 10 + i, f"事项{i}", unit=units["aid"]) for i in range(4)]
    newest_first = Measure.objects.filter(pk__in=[m.pk for m in made]).order_by("-pk")
    sheet = export_of(newest_first)
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [row[0] for row in rows] == [1, 2, 3, 4]
    assert [row[column_of(sheet, "事项编号") - 1] for row in rows] == [m.pk for m in made[::-1]]
    assert sheet.column_dimensions["N"].hidden


def test_the_autofilter_covers_the_header_and_every_row_of_the_visible_columns(ledger):
    assert export_of(ledger).auto_filter.ref == "A2:L4"
    assert export_of(Measure.objects.none()).auto_filter.ref == "A2:L2"


def test_pages_are_numbered_and_headed_with_the_day_and_the_filters(ledger):
    sheet = export_of(ledger, filters=[("状态", "未启动"), ("牵头单位", "甲&乙")])
    assert sheet.oddFooter.center.text == "第 &P 页 / 共 &N 页"
    assert sheet.oddHeader.left.text == "导出日期：2026-11-22"
    assert sheet.oddHeader.right.text == "筛选：状态 未启动；牵头单位 甲&&乙"  # && prints one &
    assert sheet["A1"].value == f"{TITLE}\n筛选：状态 未启动；牵头单位 甲&乙"
    assert sheet.row_dimensions[1].height == 48
    unfiltered = export_of(ledger)
    assert unfiltered["A1"].value == TITLE and not unfiltered.oddHeader.right.text


@pytest.mark.parametrize(("paper", "code"), [("A4", 9), ("A3", 8), (" a3 ", 8)])
def test_ledger_and_monthly_report_print_alike_on_the_configured_paper(
    settings, ledger, paper, code
):
    from tracker.reports import monthly_report, report_xlsx

    settings.LEDGER_PAPER = paper
    report = report_xlsx(monthly_report(2026, 11, today=TODAY))
    for sheet in (export_of(ledger), load_workbook(io.BytesIO(report)).active):
        assert sheet.page_setup.paperSize == code
        assert sheet.page_setup.orientation == "landscape"
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.oddFooter.center.text == "第 &P 页 / 共 &N 页"


def test_an_unknown_paper_is_a_configuration_error(settings, ledger):
    settings.LEDGER_PAPER = "B5"
    with pytest.raises(ImproperlyConfigured, match="LEDGER_PAPER='B5'"):
        export_of(ledger)


def test_the_file_name_says_the_day_and_the_filters_in_safe_characters():
    assert export_filename(TODAY, [], "xlsx") == "督办台账_2026-11-22.xlsx"
    assert export_filename(TODAY, [("亮灯", "红灯")], "xlsx") == "督办台账_2026-11-22_红灯.xlsx"
    hostile = [("搜索", 'a/b:c*"d"\x0b '), ("牵头单位", "办公厅")]
    assert export_filename(TODAY, hostile, "csv") == "督办台账_2026-11-22_搜索-a-b-c-d_办公厅.csv"
    long = export_filename(TODAY, [("搜索", "很长的搜索词" * 30)], "xlsx")
    assert long.endswith("等.xlsx") and len(long) < 90


def test_the_download_is_named_and_titled_after_the_filters(
    client, supervisor, ledger, measure, units, freeze_today
):
    client.force_login(supervisor)
    filters = {"status": "not_started", "unit": units["aid"].pk, "light": "red", "sort": "unit"}
    response = client.get("/measures/export.xlsx", filters)
    disposition = response["Content-Disposition"]
    # RFC 5987 form, so browsers keep the Chinese name.
    assert disposition.startswith("attachment; filename*=utf-8''")
    name = unquote(disposition.split("''", 1)[1])
    assert name == "督办台账_2026-11-22_未启动_社会救助司_红灯.xlsx"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == (
        "督办事项台账（截至2026-11-22）\n筛选：状态 未启动；牵头单位 社会救助司；亮灯 红灯"
    )
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(row[0], row[-1]) for row in rows] == [(1, measure.pk)]
    response = client.get("/measures/export.csv", {"due": "overdue", "owner": "nobody"})
    name = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert name == "督办台账_2026-11-22_已逾期.csv"  # an invalid filter is ignored, and unnamed


def test_round_trip_through_the_pages_changes_the_measure_of_the_edited_row(
    client, supervisor, document, units, freeze_today
):
    # Created in the reverse of the ledger order, so 序号 and id disagree.
    made = [make_measure(document, 30 - i, f"事项{i}", unit=units["aid"]) for i in range(3)]
    client.force_login(supervisor)
    workbook = load_workbook(io.BytesIO(client.get("/measures/export.xlsx").content))
    sheet = workbook.active
    assert [sheet.cell(row, 1).value for row in (3, 4, 5)] == [1, 2, 3]
    assert sheet.cell(3, column_of(sheet, "事项编号")).value == made[-1].pk
    sheet.cell(3, column_of(sheet, "状态"), "推进中")
    for row in (3, 4, 5):
        sheet.cell(row, 1, 99)  # renumbering 序号 (a sort in Excel) matches nothing anew
    out = upload(workbook)
    out.name = "台账.xlsx"
    preview = client.post("/measures/import/", {"file": out}).content.decode()
    assert "将要修改 1 处" in preview
    client.post("/measures/import/", {"action": "apply"})
    statuses = dict(Measure.objects.values_list("pk", "status"))
    assert statuses == {
        made[0].pk: "not_started",
        made[1].pk: "not_started",
        made[2].pk: "in_progress",
    }


def test_an_export_from_before_the_id_column_still_imports_by_its_序号(
    ledger, measure, care_measure, supervisor
):
    workbook = workbook_of(ledger)
    sheet = workbook.active
    id_column = column_of(sheet, "事项编号")
    for row in range(3, sheet.max_row + 1):
        sheet.cell(row, 1, sheet.cell(row, id_column).value)  # the old layout: 序号 is the id
    sheet.delete_cols(id_column)
    workbook.properties.keywords = None
    sheet.cell(4, column_of(sheet, "状态"), "暂缓")
    plan = plan_import(read_sheet(upload(workbook)), supervisor)
    assert plan.errors == []
    assert [(c.measure.pk, c.field, c.new) for c in plan.changes] == [
        (care_measure.pk, "status", "暂缓")
    ]


def test_a_new_export_without_its_hidden_id_column_is_refused_not_read_by_序号(ledger):
    workbook = workbook_of(ledger)
    workbook.active.delete_cols(column_of(workbook.active, "事项编号"))
    with pytest.raises(SheetError, match="表头缺少“事项编号”列"):
        read_sheet(upload(workbook))
