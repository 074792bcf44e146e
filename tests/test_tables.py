"""Task tables from pasted text, .docx and .xlsx: one path, one measure per data row."""

from datetime import date, datetime

import docx
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.pipeline import parse_document
from tracker.pipeline.tables import column_role, read_header
from tracker.pipeline.units import parse_note, split_top, split_units

TODAY = date(2026, 11, 22)


def measures(parsed):
    return [m for top in parsed.outline.sections for _, s in top.walk() for m in s.measures]


def parse_text(text, name="t.txt"):
    return parse_document(text.encode(), name, today=TODAY)


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("序号", "seq"),
        ("部署任务", "task"),
        ("重点任务", "task"),
        ("具体措施", "task"),
        ("落实措施", "task"),
        ("工作内容", "task"),
        ("牵头单位", "lead"),
        ("责任单位", "resp"),
        ("配合单位", "co"),
        ("协办单位", "co"),
        ("责任领导", "leader"),
        ("完成时限", "time"),
        ("时间节点", "time"),
        ("进度安排", "time"),
        ("备注", "remark"),
        ("工作目标", "target"),
        ("完善最低生活保障制度，提高保障水平", None),
    ],
)
def test_columns_are_mapped_by_their_names(name, role):
    assert column_role(name) == role


def test_a_header_needs_a_task_column_and_who_or_when():
    assert read_header(["序号", "重点任务", "牵头单位"]).task == 1
    assert read_header(["序号", "名称"]) is None
    header = read_header(["序号", "部署任务", "落实措施", "牵头单位", "完成时限"])
    assert (header.group, header.task) == (1, 2)


PASTED = (
    "2024年重点任务分工表\n"
    "序号\t重点任务\t牵头单位\t配合单位\t完成时限\n"
    "一、民生保障\n"
    "1\t完善低保制度，6月底前完成复核。\t市民政局市财政局\t各县（市、区）人民政府\t2024年9月底前\n"
    "\t\t\t市医保局\n"
    "2\t推进医养结合\t市卫生健康委\t\t长期坚持\n"
    "二、养老服务\n"
    "3\t发展老年助餐\t市民政局\t市商务局\t第三季度\n"
)


def test_a_pasted_table_gives_one_measure_per_row_under_its_category_rows():
    parsed = parse_text(PASTED)
    rows = measures(parsed)
    assert [m.text for m in rows] == [
        "完善低保制度，6月底前完成复核。",
        "推进医养结合",
        "发展老年助餐",
    ]
    assert [s.title for s in parsed.outline.sections] == ["一、民生保障", "二、养老服务"]
    for m in rows:
        assert parsed.clean_text[m.start : m.end] == m.text


def test_column_deadline_wins_over_a_date_in_the_task():
    first = measures(parse_text(PASTED))[0]
    assert (first.deadline, first.deadline_text) == (date(2024, 9, 30), "2024年9月底前")


def test_units_come_from_their_columns_and_a_continuation_row_adds_to_them():
    first, second, third = measures(parse_text(PASTED))
    assert first.lead_units == ["市民政局", "市财政局"]
    assert first.co_units == ["各县（市、区）人民政府", "市医保局"]
    assert "牵头单位：市民政局市财政局" in first.units_text
    assert (second.deadline, second.long_term) == (None, True)
    assert (third.lead_units, third.co_units, third.deadline) == (
        ["市民政局"],
        ["市商务局"],
        date(2024, 9, 30),
    )


def test_a_glued_unit_cell_is_reported_as_a_repair():
    splits = [r for r in parse_text(PASTED).repairs if r.kind == "unit_split"]
    assert [(r.before, r.after) for r in splits] == [("市民政局市财政局", "市民政局、市财政局")]


def test_the_header_row_is_neither_a_measure_nor_merged_into_the_title():
    parsed = parse_text(PASTED)
    assert parsed.outline.title == "2024年重点任务分工表"
    assert all("牵头单位" not in m.text for m in measures(parsed))


def test_a_grouping_task_column_becomes_the_heading_of_its_rows():
    text = (
        "序号\t部署任务\t落实措施\t牵头单位\t完成时限\n"
        "1\t（一）兜牢民生底线。\t（1）完善低保制度。\t市民政局\t年底前\n"
        "2\t\t（2）健全临时救助。\t市民政局\t第三季度\n"
    )
    parsed = parse_text("养老服务任务分工\n" + text)
    [group] = parsed.outline.sections
    assert group.title == "（一）兜牢民生底线"
    assert [m.text for m in group.measures] == ["（1）完善低保制度。", "（2）健全临时救助。"]


def test_responsible_unit_column_alone_is_the_lead():
    text = "序号\t工作任务\t责任单位\t责任领导\n1\t建设养老服务中心\t区民政局\t王敏\n"
    [m] = measures(parse_text(text))
    assert (m.lead_units, m.co_units, m.leaders) == (["区民政局"], [], ["王敏"])


def docx_table(tmp_path, rows, title="任务分解表"):
    document = docx.Document()
    document.add_paragraph(title)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    path = tmp_path / "t.docx"
    document.save(path)
    return path.read_bytes()


def test_a_docx_task_table_gives_its_rows_as_measures(tmp_path):
    raw = docx_table(
        tmp_path,
        [
            ["序号", "重点任务", "牵头单位", "完成时限"],
            ["1", "提高救助标准。", "市民政局、市财政局", "2024年6月底前"],
            ["2", "加强动态监测。", "市民政局", "长期坚持"],
        ],
    )
    rows = measures(parse_document(raw, "t.docx", today=TODAY))
    assert [(m.text, m.lead_units, m.deadline, m.long_term) for m in rows] == [
        ("提高救助标准。", ["市民政局", "市财政局"], date(2024, 6, 30), False),
        ("加强动态监测。", ["市民政局"], None, True),
    ]


def test_an_xlsx_task_list_with_title_rows_and_any_column_order(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (
        ["附件1"],
        ["2024年养老服务重点任务清单"],
        ["序号", "牵头单位", "重点任务", "完成时限", "责任单位", "备注"],
        [
            1,
            "区民政局",
            "新建养老服务机构3家。",
            datetime(2024, 11, 30),
            "各街道办事处",
            "民生实事",
        ],
        [2, "区财政局", "落实养老服务补贴。", "年底前", "区民政局", None],
    ):
        sheet.append(row)
    path = tmp_path / "list.xlsx"
    workbook.save(path)
    parsed = parse_document(path.read_bytes(), "list.xlsx", today=TODAY)
    assert parsed.outline.title == "2024年养老服务重点任务清单"
    assert [(m.text, m.lead_units, m.co_units, m.deadline) for m in measures(parsed)] == [
        ("新建养老服务机构3家。", ["区民政局"], ["各街道办事处"], date(2024, 11, 30)),
        ("落实养老服务补贴。", ["区财政局"], ["区民政局"], date(2024, 12, 31)),
    ]


# Unit cells are cut quickly when they hold no bracket, and each value once --------------


@given(st.text(alphabet="市民政局财政各单位、，,；;/／ 和", max_size=30))
def test_a_cell_without_brackets_is_cut_as_the_bracket_aware_reading_cuts_it(text):
    # a bracketed last piece sends the text the bracket-aware way
    assert split_top(text + "、（）") == [*split_top(text), "（）"]


def test_a_value_split_again_comes_out_the_same_and_apart():
    first = split_units("市民政局市财政局、各县（市、区）政府")
    first[0].append("changed by a caller")
    second = split_units("市民政局市财政局、各县（市、区）政府")
    assert second == (
        ["市民政局", "市财政局", "各县（市、区）政府"],
        [("市民政局市财政局", ["市民政局", "市财政局"])],
    )


def test_a_note_read_again_is_a_note_of_its_own():
    first = parse_note("牵头单位：市民政局；配合单位：市财政局")
    first.lead.append("changed by a caller")
    first.text = "changed"
    second = parse_note("牵头单位：市民政局；配合单位：市财政局")
    assert (second.lead, second.co, second.text) == (
        ["市民政局"],
        ["市财政局"],
        "牵头单位：市民政局；配合单位：市财政局",
    )
