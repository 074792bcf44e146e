"""tracker.pipeline.read: every way a file can arrive, and every way it can be refused."""

import docx
import pytest

from tracker.pipeline.read import MAX_BYTES, decode, load
from tracker.pipeline.types import ImportProblem

TEXT = "民政工作关系民生、连着民心。\n深刻领悟民政工作的政治属性。\n"
TRADITIONAL = "民政工作關係民生、連著民心。\n"


def refusal(raw: bytes, source: str = "seeds/x.txt") -> str:
    with pytest.raises(ImportProblem) as caught:
        decode(raw, source)
    return str(caught.value)


def load_refusal(path, **limits) -> str:
    with pytest.raises(ImportProblem) as caught:
        load(path, **limits)
    return str(caught.value)


def test_utf8_is_decoded():
    assert decode(TEXT.encode("utf-8"), "a.txt") == TEXT


def test_utf8_byte_order_mark_is_dropped():
    assert decode(b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "a.txt") == TEXT


def test_gb18030_is_decoded():
    raw = (TEXT + "𠀀").encode("gb18030")  # a character outside GBK
    assert decode(raw, "a.txt") == TEXT + "𠀀"


def test_gbk_is_decoded_simplified_and_traditional():
    assert decode(TEXT.encode("gbk"), "a.txt") == TEXT
    assert decode(TRADITIONAL.encode("gbk"), "a.txt") == TRADITIONAL


def test_utf16_with_byte_order_mark_is_decoded_both_byte_orders():
    assert decode(TEXT.encode("utf-16"), "a.txt") == TEXT
    assert decode(b"\xfe\xff" + TEXT.encode("utf-16-be"), "a.txt") == TEXT


def test_windows_and_old_mac_line_endings_become_newlines():
    raw = "第一行\r\n第二行\r第三行\n".encode()
    assert decode(raw, "a.txt") == "第一行\n第二行\n第三行\n"


def test_docx_paragraphs_and_table_rows_become_lines_in_document_order(tmp_path):
    document = docx.Document()
    document.add_paragraph("领悟核心要义")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "事项"
    table.cell(0, 1).text = "责任单位"
    table.cell(1, 0).text = "健全第一议题制度"
    table.cell(1, 1).text = "办公厅"
    document.add_paragraph("稳步提高基本民生保障水平。")
    path = tmp_path / "plan.docx"
    document.save(path)

    text = decode(path.read_bytes(), "plan.docx")

    assert text.split("\n") == [
        "领悟核心要义",
        "事项\t责任单位",
        "健全第一议题制度\t办公厅",
        "稳步提高基本民生保障水平。",
    ]


def test_docx_is_recognised_by_content_whatever_its_name(tmp_path):
    document = docx.Document()
    document.add_paragraph("民政工作")
    path = tmp_path / "upload.bin"
    document.save(path)
    assert decode(path.read_bytes(), "upload.bin") == "民政工作"


def test_merged_table_cell_is_read_once_and_keeps_the_columns_it_covers(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "合并单元格"
    table.cell(0, 2).text = "右"
    path = tmp_path / "merged.docx"
    document.save(path)
    assert decode(path.read_bytes(), "merged.docx") == "合并单元格\t\t右"


def test_damaged_docx_is_refused_as_unreadable_word_file():
    assert refusal(b"PK\x03\x04 truncated", "seeds/plan.docx") == (
        "seeds/plan.docx: 无法读取 Word 文档 / cannot read the .docx file"
    )


def test_other_zip_archive_is_binary():
    assert refusal(b"PK\x03\x04 not a word file") == (
        "seeds/x.txt: 不是文本文件 / binary file, not text"
    )


def test_empty_file_is_refused():
    assert refusal(b"") == "seeds/x.txt: 文件为空 / file is empty"


def test_whitespace_only_file_is_refused():
    raw = " \n\t\r\n\u3000\n".encode()
    assert refusal(raw) == "seeds/x.txt: 文件只有空白 / file contains only whitespace"


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "民政".encode() + b"\x00\x00" + "工作".encode(),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    ],
    ids=["png", "nul-bytes", "pdf"],
)
def test_binary_file_is_refused(raw):
    assert refusal(raw) == "seeds/x.txt: 不是文本文件 / binary file, not text"


def test_control_characters_mean_binary():
    raw = bytes(range(1, 9)) * 20 + "民政工作".encode()
    assert refusal(raw) == "seeds/x.txt: 不是文本文件 / binary file, not text"


def test_legacy_word_document_is_refused_with_a_hint():
    raw = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)
    assert refusal(raw, "plan.doc") == (
        "plan.doc: 旧版 Word(.doc)文件,请另存为 .docx / legacy .doc, save it as .docx"
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\xfd\x80\x81",  # neither UTF-8 nor GB18030
        "民政工作關係民生連著民心".encode("big5"),  # valid GB18030 bytes, but nonsense
        "café résumé naïve façade".encode("latin-1"),
    ],
    ids=["invalid", "big5", "latin-1"],
)
def test_undecodable_bytes_are_refused_not_guessed(raw):
    assert refusal(raw) == "seeds/x.txt: 无法识别文件编码 / cannot detect the text encoding"


def test_load_returns_the_bytes(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(TEXT.encode())
    assert load(path) == TEXT.encode()


def test_load_refuses_missing_path(tmp_path):
    path = tmp_path / "missing.txt"
    assert load_refusal(path) == f"{path}: 文件不存在 / no such file"


def test_load_refuses_directory(tmp_path):
    assert (
        load_refusal(tmp_path)
        == f"{tmp_path}: 这是一个文件夹,不是文件 / is a directory, not a file"
    )


def test_load_refuses_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert load_refusal(path) == f"{path}: 文件为空 / file is empty"


def test_load_refuses_file_over_the_limit_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 11)
    assert load_refusal(path, max_bytes=10) == f"{path}: 文件超过 10 B / file larger than 10 B"
    assert load(path, max_bytes=11) == b"x" * 11


def test_default_limit_is_five_megabytes(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: no need to write 5 MB
    assert MAX_BYTES == 5 * 1024 * 1024
    assert load_refusal(path) == f"{path}: 文件超过 5 MB / file larger than 5 MB"


def test_every_refusal_is_one_line_chinese_then_english():
    for raw in (b"", b"\x00\x01", b"\xff\xfe\xfd\x80\x81"[1:]):
        message = refusal(raw, "a.txt")
        assert "\n" not in message
        head, english = message.split(" / ")
        assert head.startswith("a.txt: ")
        assert english.isascii()


# --- tables, workbooks and limits ---------------------------------------------------------


def docx_bytes(tmp_path, build) -> bytes:
    document = docx.Document()
    build(document)
    path = tmp_path / "t.docx"
    document.save(path)
    return path.read_bytes()


def test_docx_cell_merged_down_is_empty_in_the_rows_below(tmp_path):
    def build(document):
        table = document.add_table(rows=3, cols=3)
        for i, header in enumerate(("部署任务", "落实措施", "牵头单位")):
            table.cell(0, i).text = header
        table.cell(1, 0).merge(table.cell(2, 0)).text = "兜牢民生底线"
        table.cell(1, 1).text = "完善低保制度"
        table.cell(2, 1).text = "健全临时救助"
        table.cell(1, 2).text = "市民政局"
        table.cell(2, 2).text = "市财政局"

    text = decode(docx_bytes(tmp_path, build), "t.docx")
    assert text.split("\n") == [
        "部署任务\t落实措施\t牵头单位",
        "兜牢民生底线\t完善低保制度\t市民政局",
        "\t健全临时救助\t市财政局",
    ]


def test_docx_cell_with_several_paragraphs_is_one_cell(tmp_path):
    def build(document):
        table = document.add_table(rows=1, cols=2)
        cell = table.cell(0, 0)
        cell.text = "市民政局"
        cell.add_paragraph("市财政局")
        table.cell(0, 1).text = "完善制度。"
        table.cell(0, 1).add_paragraph("健全机制。")

    text = decode(docx_bytes(tmp_path, build), "t.docx")
    assert text == "市民政局、市财政局\t完善制度。健全机制。"


def test_tab_inside_a_docx_paragraph_is_layout_not_a_cell(tmp_path):
    text = decode(docx_bytes(tmp_path, lambda d: d.add_paragraph("一、\t加强领导")), "t.docx")
    assert text == "一、 加强领导"


def xlsx_bytes(tmp_path, sheets) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    return path.read_bytes()


def test_xlsx_rows_become_tab_separated_lines_from_sheets_with_a_task_header(tmp_path):
    from datetime import datetime

    raw = xlsx_bytes(
        tmp_path,
        {
            "说明": [["填表说明：请按要求填写"]],
            "任务清单": [
                ["2024年重点任务清单"],
                [],
                ["序号", "重点任务", "牵头单位", "完成时限"],
                [1, "完善低保制度", "市民政局\n市财政局", datetime(2024, 6, 30)],
            ],
        },
    )
    assert decode(raw, "list.xlsx").split("\n") == [
        "2024年重点任务清单",
        "序号\t重点任务\t牵头单位\t完成时限",
        "1\t完善低保制度\t市民政局、市财政局\t2024年6月30日",
    ]


def test_xlsx_without_any_task_header_gives_all_its_sheets(tmp_path):
    raw = xlsx_bytes(tmp_path, {"A": [["甲"]], "B": [["乙", "丙"]]})
    assert decode(raw, "upload.bin") == "甲\n乙\t丙"


def test_xlsx_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    from tracker.pipeline import read

    monkeypatch.setattr(read, "MAX_SHEET_ROWS", 5)
    raw = xlsx_bytes(tmp_path, {"A": [[f"第{i}行"] for i in range(10)]})
    assert refusal(raw, "big.xlsx") == "big.xlsx: 表格超过 5 行 / more than 5 rows"


def test_damaged_xlsx_is_refused():
    assert "big.xlsx: " in refusal(b"PK\x03\x04 truncated", "big.xlsx")


def test_docx_that_unpacks_to_too_much_text_is_refused_before_parsing(tmp_path):
    import time

    raw = docx_bytes(tmp_path, lambda d: d.add_paragraph("民" * 2_100_000))
    assert len(raw) < 200_000
    started = time.perf_counter()
    message = refusal(raw, "bomb.docx")
    assert message == ("bomb.docx: 文本超过 2,000,000 字 / more than 2,000,000 characters of text")
    assert time.perf_counter() - started < 2


def test_docx_whose_body_part_is_too_large_is_refused(tmp_path, monkeypatch):
    from tracker.pipeline import read

    monkeypatch.setattr(read, "MAX_DOCUMENT_XML", 1024)
    raw = docx_bytes(tmp_path, lambda d: d.add_paragraph("民政" * 1000))
    assert refusal(raw, "a.docx") == "a.docx: 正文解压后超过 1 KB / body unpacks to more than 1 KB"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("第一页\x0c第二页", "第一页\n第二页"),
        ("一行\x0b二行", "一行\n二行"),
        ("民政\x01工作\x1f。" + "加强养老服务。" * 40, "民政工作。" + "加强养老服务。" * 40),
    ],
    ids=["form-feed", "vertical-tab", "stray-controls"],
)
def test_xml_forbidden_characters_never_leave_the_reader(raw, text):
    assert decode(raw.encode(), "a.txt") == text
