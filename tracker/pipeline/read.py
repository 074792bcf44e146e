"""Read an uploaded file and decode it to text. Pure functions, no Django.

Offices send whatever their machines produce: UTF-8 (with or without BOM), GBK/GB18030
from older Windows tools, UTF-16 from Word's "save as text", and .docx. Every file that
cannot become text raises ImportProblem with a one-line message, Chinese then English,
naming the file.
"""

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from .types import ImportProblem

MAX_BYTES = 5 * 1024 * 1024

_DOCX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls / .ppt
_BINARY_MAGICS = (
    _DOCX_MAGIC,  # any other zip
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",  # gzip
)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# C0 controls other than tab, newline, vertical tab, form feed, carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_WIDE = re.compile(r"[^\x00-\x7f\s]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# A file may carry a few stray control characters; more than this share is not text.
_MAX_CONTROL_SHARE = 0.01
# Real Chinese text is almost all common characters; a wrong decode is mostly rare ones.
_MIN_COMMON_SHARE = 0.8


# Characters XML 1.0 forbids (every C0 control but tab, newline and carriage return, and the
# two non-characters): a single one makes an .xlsx or .docx unreadable, so text is cleared of
# them wherever it enters the system.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Unpacked size limits for Office files, checked from the zip directory before anything is
# inflated: a 100 KB file can unpack to gigabytes.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_MEMBER_BYTES = 30 * 1024 * 1024
MAX_MEMBERS = 2000
# Word's body part and the text any Office file may unpack to: a 100 KB .docx can hold
# millions of characters, more than anyone's plan and more than the pipeline should chew.
MAX_DOCUMENT_XML = 20 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
MAX_SHEET_ROWS = 20_000
_TAG = re.compile(r"<[^>]*>")


def xml_safe(text: str, replacement: str = " ") -> str:
    """`text` with every XML-forbidden character replaced (a form feed stood for a break)."""
    return XML_ILLEGAL.sub(replacement, text)


def check_archive(
    raw: bytes,
    source: str,
    *,
    max_total: int = MAX_UNPACKED_BYTES,
    max_member: int = MAX_MEMBER_BYTES,
) -> zipfile.ZipFile:
    """Open an Office (zip) file only if its declared sizes are within bounds.

    The declared sizes come from the central directory; a member that lies about its size is
    caught while reading it (see `read_member`). Raises ImportProblem, one line.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _problem(source, "文件已损坏，无法解压", "damaged archive") from exc
    if len(members) > MAX_MEMBERS:
        raise _problem(source, "压缩包内文件过多", "too many parts in the archive")
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > max_member or total > max_total:
            label = _size_label(max_member if member.file_size > max_member else max_total)
            raise _problem(source, f"解压后超过 {label}", f"unpacks to more than {label}")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, source: str, limit: int) -> bytes:
    """A member's bytes, reading at most `limit` + 1 whatever its header claims."""
    try:
        with archive.open(name) as handle:
            data = handle.read(limit + 1)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise _problem(source, "文件已损坏，无法解压", "damaged archive") from exc
    if len(data) > limit:
        label = _size_label(limit)
        raise _problem(source, f"解压后超过 {label}", f"unpacks to more than {label}")
    return data


def _problem(source: str, chinese: str, english: str) -> ImportProblem:
    return ImportProblem(f"{source}: {chinese} / {english}")


def load(path: str | Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    """Return the bytes of the file at `path`, refusing what cannot be a document."""
    path = Path(path)
    if not path.exists():
        raise _problem(str(path), "文件不存在", "no such file")
    if path.is_dir():
        raise _problem(str(path), "这是一个文件夹,不是文件", "is a directory, not a file")
    try:
        size = path.stat().st_size
        if size == 0:
            raise _problem(str(path), "文件为空", "file is empty")
        if size > max_bytes:
            label = _size_label(max_bytes)
            raise _problem(str(path), f"文件超过 {label}", f"file larger than {label}")
        return path.read_bytes()
    except OSError as exc:
        raise _problem(str(path), "无法读取文件", "cannot read the file") from exc


def decode(raw: bytes, source: str) -> str:
    """Decode a file's bytes to text with "\\n" line endings.

    Raises ImportProblem rather than guess: a decode that does not look like writing is
    refused, never passed on as mojibake. Tables (.docx, .xlsx) come out as tab-separated
    lines, one row a line.
    """
    if not raw:
        raise _problem(source, "文件为空", "file is empty")
    kind = _office_kind(raw, source) if raw.startswith(_DOCX_MAGIC) else None
    if kind == "docx":
        text = _docx_text(raw, source)
    elif kind == "xlsx":
        text = _xlsx_text(raw, source)
    else:
        text = _decode_plain(raw, source)
    text = _NEWLINES.sub("\n", text)
    # A form feed or vertical tab stood for a page or line break; other controls are debris
    # that would make the Excel export unreadable later. (str.replace, not translate: that
    # looks every character up in a table, a hundred times slower.)
    text = xml_safe(text.replace("\x0b", "\n").replace("\x0c", "\n"), "")
    if not text.strip():
        raise _problem(source, "文件只有空白", "file contains only whitespace")
    return text


@cache
def common_chars() -> frozenset[str]:
    """Characters ordinary Chinese writing is made of.

    GB2312 level 1 (the 3,755 most used simplified characters) and Big5 level 1 (the
    5,401 most used traditional ones), plus the punctuation, full-width and pinyin rows
    of GB2312. Rare characters (GB2312 level 2, GBK extensions) are what byte-level
    damage produces, which is why both the reader and the cleaner ask this question.
    """
    chars = set()
    gb_rows = [0xA1, 0xA2, 0xA3, 0xA8, *range(0xB0, 0xD8)]
    for lead in gb_rows:
        chars.update(_decode_cells("gb2312", lead, range(0xA1, 0xFF)))
    big5_trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    for lead in range(0xA4, 0xC7):
        chars.update(_decode_cells("big5", lead, big5_trails))
    return frozenset(chars)


def _decode_cells(codec: str, lead: int, trails: Iterable[int]) -> list[str]:
    cells = []
    for trail in trails:
        try:
            cells.append(bytes((lead, trail)).decode(codec))
        except UnicodeDecodeError:
            continue  # unassigned cell
    return cells


def _size_label(n: int) -> str:
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def _decode_plain(raw: bytes, source: str) -> str:
    codec = next((codec for bom, codec in _BOMS if raw.startswith(bom)), None)
    if codec is None:
        _refuse_binary_formats(raw, source)
        # Strict UTF-8 first: its byte grammar almost never accepts text in another encoding.
        codec = "utf-8" if _is_utf8(raw) else "gb18030"
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise _unknown_encoding(source) from exc
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > _MAX_CONTROL_SHARE * len(text):
        raise _problem(source, "不是文本文件", "binary file, not text")
    # GB18030 and UTF-16 turn almost any bytes into *some* characters; believe them only
    # when the result is made of characters people write.
    if codec in ("gb18030", "utf-16") and not _mostly_common(text):
        raise _unknown_encoding(source)
    return text


def _refuse_binary_formats(raw: bytes, source: str) -> None:
    if raw.startswith(_OLE_MAGIC):
        raise _problem(
            source, "旧版 Word(.doc)文件,请另存为 .docx", "legacy .doc, save it as .docx"
        )
    if b"\x00" in raw or raw.startswith(_BINARY_MAGICS):
        raise _problem(source, "不是文本文件", "binary file, not text")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unknown_encoding(source: str) -> ImportProblem:
    return _problem(source, "无法识别文件编码", "cannot detect the text encoding")


def _mostly_common(text: str) -> bool:
    wide = _WIDE.findall(text)
    if not wide:
        return True
    common = sum(map(common_chars().__contains__, wide))
    return common >= _MIN_COMMON_SHARE * len(wide)


def _office_kind(raw: bytes, source: str) -> str | None:
    """ "docx", "xlsx" or None for a zip, by its parts and else by its name."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        names = set()
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    name = source.lower()
    if name.endswith(".docx"):
        return "docx"
    if name.endswith(".xlsx"):
        return "xlsx"
    return None


def _too_much_text(source: str) -> ImportProblem:
    label = f"{MAX_TEXT_CHARS:,}"
    return _problem(source, f"文本超过 {label} 字", f"more than {label} characters of text")


def _docx_text(raw: bytes, source: str) -> str:
    """The body of a Word file: paragraphs in order, each table row one tab-separated line.

    Only word/document.xml is read, with lxml directly: building python-docx's object model
    costs several times the whole rest of the import on a table-heavy file.
    """
    from lxml import etree

    try:
        archive = check_archive(raw, source)
        body = archive.getinfo("word/document.xml")
    except (ImportProblem, KeyError) as exc:
        raise _problem(source, "无法读取 Word 文档", "cannot read the .docx file") from exc
    if body.file_size > MAX_DOCUMENT_XML:
        label = _size_label(MAX_DOCUMENT_XML)
        raise _problem(source, f"正文解压后超过 {label}", f"body unpacks to more than {label}")
    xml = read_member(archive, "word/document.xml", source, MAX_DOCUMENT_XML)
    # Count the text before building a tree of it: refusing a bomb must be fast.
    if len(_TAG.sub("", xml.decode("utf-8", "replace"))) > MAX_TEXT_CHARS:
        raise _too_much_text(source)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise _problem(source, "无法读取 Word 文档", "cannot read the .docx file") from exc
    document_body = root.find(_W + "body")
    if document_body is None:
        raise _problem(source, "无法读取 Word 文档", "cannot read the .docx file")
    text = "\n".join(_block_lines(document_body))
    if len(text) > MAX_TEXT_CHARS:
        raise _too_much_text(source)
    return text


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_PARTS = (_W + "t", _W + "tab", _W + "br", _W + "cr")


def _paragraph_text(paragraph) -> str:
    # A tab inside a paragraph is layout (after a number, before a signature); in the
    # text a tab means a table cell.
    parts = []
    for element in paragraph.iter(*_RUN_PARTS):
        if element.tag == _W + "t":
            parts.append(element.text or "")
        else:
            parts.append(" " if element.tag == _W + "tab" else "\n")
    return "".join(parts)


def _block_lines(container) -> Iterator[str]:
    """Paragraph texts in document order; a table gives one tab-separated line per row."""
    for child in container:
        if child.tag == _W + "p":
            yield _paragraph_text(child)
        elif child.tag == _W + "tbl":
            yield from _table_rows(child)
        elif child.tag == _W + "sdt":  # a content control wraps ordinary blocks
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _block_lines(content)


def _table_rows(table) -> Iterator[str]:
    """Each row as cells joined by tabs. A cell merged across columns is read once and
    keeps the columns it covers (empty), so cells stay under their header; a cell merged
    down from the row above is empty, so the rows it spans share one heading, not a copy."""
    for row in table.iterchildren(_W + "tr"):
        cells = []
        for cell in row.iterchildren(_W + "tc"):
            properties = cell.find(_W + "tcPr")
            span, continued = 1, False
            if properties is not None:
                merge = properties.find(_W + "vMerge")
                continued = merge is not None and merge.get(_W + "val") != "restart"
                grid = properties.find(_W + "gridSpan")
                if grid is not None and (grid.get(_W + "val") or "").isdigit():
                    span = max(1, int(grid.get(_W + "val")))
            cells.append("" if continued else cell_text(_block_lines(cell)))
            cells.extend([""] * (span - 1))
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield "\t".join(cells)


_PIECE_END = re.compile(r"[。；;，,、：:！？!?）)]$")


def cell_text(lines) -> str:
    """A cell's lines as one: sentences run on, a list of names (one a line) takes 、."""
    text = ""
    for line in lines:
        line = " ".join(line.replace("\t", " ").split())
        if not line:
            continue
        if text and not _PIECE_END.search(text) and not line.startswith(("（", "(")):
            text += "、"
        text += line
    return text


def _xlsx_text(raw: bytes, source: str) -> str:
    """The sheets that hold a task table (all of them if none has a recognisable header),
    each row a tab-separated line. Rows stream from openpyxl's read-only reader, bounded
    in rows and in text."""
    import openpyxl

    from .tables import is_header_row

    check_archive(raw, source)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for damaged files
        raise _problem(source, "无法读取 Excel 文件", "cannot read the .xlsx file") from exc
    sheets: list[tuple[bool, list[str]]] = []
    rows = chars = 0
    try:
        for sheet in workbook.worksheets:
            lines, header = [], False
            for values in sheet.iter_rows(values_only=True):
                rows += 1
                if rows > MAX_SHEET_ROWS:
                    label = f"{MAX_SHEET_ROWS:,}"
                    raise _problem(source, f"表格超过 {label} 行", f"more than {label} rows")
                cells = [_cell_value(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                if not cells:
                    continue
                chars += sum(map(len, cells)) + len(cells)
                if chars > MAX_TEXT_CHARS:
                    raise _too_much_text(source)
                header = header or (len(lines) < 30 and is_header_row(cells))
                lines.append("\t".join(cells))
            sheets.append((header, lines))
    except ImportProblem:
        raise
    except Exception as exc:
        raise _problem(source, "无法读取 Excel 文件", "cannot read the .xlsx file") from exc
    finally:
        workbook.close()
    chosen = [lines for header, lines in sheets if header] or [lines for _, lines in sheets]
    return "\n".join(line for lines in chosen for line in lines)


def _cell_value(value) -> str:
    import datetime

    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        # Written the way a 完成时限 is, so the deadline reader needs no second notation.
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return cell_text(str(value).split("\n"))
