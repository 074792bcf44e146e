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
    refused, never passed on as mojibake.
    """
    if not raw:
        raise _problem(source, "文件为空", "file is empty")
    if raw.startswith(_DOCX_MAGIC) and (
        source.lower().endswith(".docx") or _has_word_document(raw)
    ):
        text = _docx_text(raw, source)
    else:
        text = _decode_plain(raw, source)
    text = _NEWLINES.sub("\n", text)
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


def _has_word_document(raw: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _docx_text(raw: bytes, source: str) -> str:
    # python-docx is only needed for Word files; keep the import off the plain-text path.
    import docx

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises several unrelated types for bad packages
        raise _problem(source, "无法读取 Word 文档", "cannot read the .docx file") from exc
    return "\n".join(_block_lines(document))


def _block_lines(container) -> Iterator[str]:
    """Paragraph texts in document order, descending into tables cell by cell."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            seen = set()
            for row in block.rows:
                for cell in row.cells:
                    if cell._tc in seen:  # a merged cell is returned once per grid column
                        continue
                    seen.add(cell._tc)
                    yield from _block_lines(cell)
        else:
            yield block.text
