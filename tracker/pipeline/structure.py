"""The shape of a cleaned document: paragraphs and sentences, title and byline, headings
with their subtitles, numbered outlines, enumerations and key-task leads.

Input follows the clean-text contract: one paragraph per line, no blank lines. Every span
keeps absolute offsets into that text, so whatever is extracted can point back at its
source. Everything here is a single pass over the text with precompiled patterns.
"""

import re
from dataclasses import dataclass, field
from itertools import pairwise

from . import tables
from .tables import Header
from .units import UnitNote, find_notes, label_line_note, split_top, split_units

CN_DIGITS = "一二三四五六七八九十"
_CN = f"[{CN_DIGITS}]"

# Unnumbered key tasks sit below every heading level, so any heading closes them.
LEAF_LEVEL = 99


@dataclass(frozen=True)
class Span:
    """A stretch of the clean text: clean_text[start:end] == text."""

    start: int
    end: int
    text: str

    def sub(self, i: int, j: int | None = None) -> "Span":
        """text[i:j] with surrounding whitespace trimmed, offsets kept absolute."""
        part = self.text[i:j]
        left = len(part) - len(part.lstrip())
        part = part.strip()
        return Span(self.start + i + left, self.start + i + left + len(part), part)


def paragraphs(text: str) -> list[Span]:
    """One span per non-empty line, trimmed; a table row keeps its leading tabs (empty
    first cells)."""
    spans, pos = [], 0
    for line in text.split("\n"):
        if "\t" in line and line.strip():
            span = Span(pos, pos + len(line), line)
        else:
            span = Span(pos, pos + len(line), line).sub(0)
        if span.text:
            spans.append(span)
        pos += len(line) + 1
    return spans


# A sentence runs to 。！？ outside quotes. A quote that itself ends with 。” closes the
# sentence (Chinese puts the full stop inside: 指出:“…江山。”), any other quote is part of
# the sentence, and an opening quote that never closes counts as an ordinary character.
_SENTENCE = re.compile(
    r"(?:“[^“”]*”(?<![。！？!?]”)|“(?![^“”]*”)|[^。！？!?“])*"
    r"(?:“[^“”]*[。！？!?]”|[。！？!?]+”?)?"
)


def sentences(span: Span) -> list[Span]:
    found = []
    for m in _SENTENCE.finditer(span.text):
        if m.end() > m.start():
            part = span.sub(m.start(), m.end())
            if part.text:
                found.append(part)
    return found


def first_sentence(span: Span) -> Span:
    m = _SENTENCE.match(span.text)
    return span.sub(0, m.end())


# --- numbered outlines --------------------------------------------------------------

# Forms of an outline number at the start of a paragraph, with the level each form
# conventionally takes in Chinese official documents.
_OUTLINE_FORMS = (
    ("一要", 1, re.compile(rf"{_CN}{{1,3}}要(?=[\u4e00-\u9fff])")),
    ("一、", 1, re.compile(rf"{_CN}{{1,3}}、")),
    ("(一)", 2, re.compile(rf"[(（]{_CN}{{1,3}}[)）]")),
    ("1.", 3, re.compile(r"\d{1,2}(?:[.．](?!\d)|、)")),
    ("(1)", 4, re.compile(r"[(（]\d{1,2}[)）]")),
)


@dataclass(frozen=True)
class Marker:
    form: str
    level: int
    end: int  # length of the marker at the start of the paragraph


def outline_marker(text: str, previous_item: int = 0) -> Marker | None:
    """The outline number a paragraph opens with. `12.365热线…` is item 12 only right after
    item 11 (1.5万… is a decimal, even where item 1 could start): `previous_item` is the
    last 1./2. number seen."""
    for form, level, pattern in _OUTLINE_FORMS:
        m = pattern.match(text)
        if m:
            return Marker(form, level, m.end())
    m = _ITEM_BEFORE_DIGIT.match(text)
    if m and previous_item and int(m.group(1)) == previous_item + 1:
        return Marker("1.", 3, m.end())
    return None


_ITEM_BEFORE_DIGIT = re.compile(r"(\d{1,2})[.．](?=\d)")
_ITEM_NUMBER = re.compile(r"\d{1,2}")


# A heading is a short line with no sentence or clause punctuation.
_HEADING_LIKE = re.compile(r"[^。！？!?；;，,：:]{2,40}")


def is_heading_like(text: str) -> bool:
    return _HEADING_LIKE.fullmatch(text) is not None


# --- sentences that are context, never measures ------------------------------------

_BOILERPLATE = re.compile(
    r"本报讯|未经(?:允许|授权|许可)不得转载|转载请注明|版权所有|责任编辑|原标题[:：]"
)
_CREDIT = re.compile(r"[(（](?P<org>[^()（）]{2,30}?)(?:供稿|供图|来稿)[)）]")
# Quotations: the words of the leadership or of a report, or a sentence that opens a quote.
_QUOTE_LEAD = re.compile(
    r"“|[^,，。；;“]{0,16}?(?:总书记|报告|讲话|古人|俗话)[^,，。；;“]{0,12}?"
    r"(?:指出|强调|要求|说|讲|提出|明确)"
)
# Commentary: a sentence about what was just said, or a condition (只有…才能…).
_COMMENTARY = re.compile(
    r"(?:这|此|该|上述|以上|可以说|应该说|由此|总之|事实上|实践证明|只有)"
    r"|[^,，。]{0,12}(?:这些|这一|这句话)"
)
# Slogans and maxims: a short subject, then 是/在于/还需… (民心是最大的政治, 打铁还需自身硬).
_DECLARATIVE = re.compile(r"[^,，;；:：]{2,20}?(?:是|就是|乃是|在于|还需|还须|贵在|重在)(?!否)")
_QUOTED = re.compile(r"“[^“”]*”")


def is_context(sentence: str) -> bool:
    """Quotes, commentary, slogans and news boilerplate: they explain, nobody does them."""
    if _BOILERPLATE.search(sentence) or _CREDIT.fullmatch(sentence):
        return True
    if _QUOTE_LEAD.match(sentence) or _COMMENTARY.match(sentence):
        return True
    # 是 inside a quoted slogan (坚持“民政部门首先是政治部门”) says nothing about the sentence.
    return _DECLARATIVE.match(_QUOTED.sub("“”", sentence)) is not None


# --- key-task leads ------------------------------------------------------------------

# Policy leads open with a verb or a manner adverb (加强…, 稳步提高…, 深刻领悟…).
_ACTION_START = re.compile(
    r"加强|加快|加大|推进|推动|推行|完善|健全|提高|提升|增强|强化|深化|落实|坚持|建立|构建|"
    r"建设|打造|做好|抓好|优化|创新|规范|深入|全面|持续|不断|稳步|切实|着力|大力|积极|扎实|"
    r"认真|严格|坚决|统筹|巩固|拓展|发挥|营造|培育|开展|实施|保障|筑牢|夯实|兜牢|聚焦|贯彻|"
    r"压实|守牢|防范|促进|树立|弘扬|坚定|深刻|准确|努力|进一步|全力|确保|维护|支持|引导|"
    r"领悟|领会|把握"
)
# A lead asking to understand (深刻领悟民政工作的政治属性) rather than to act.
_UNDERSTANDING = re.compile(r"(?:深刻|深入|准确|全面|正确|充分)?(?:领悟|领会|认识|理解|把握)")
_CLAUSE_PUNCT = re.compile(r"[,，;；:：“”]")
LEAD_MAX = 25


def key_task_lead(span: Span) -> Span | None:
    """The paragraph's short first sentence naming a key task, if it has one and goes on."""
    lead = first_sentence(span)
    core = lead.text.rstrip("。")
    if not lead.text.endswith("。") or not 4 <= len(core) <= LEAD_MAX or lead.end >= span.end:
        return None
    if _CLAUSE_PUNCT.search(core) or not _ACTION_START.match(core) or is_context(lead.text):
        return None
    return lead


def is_understanding(lead: str) -> bool:
    return _UNDERSTANDING.match(lead) is not None


# --- enumerations inside a paragraph --------------------------------------------------

_ENUM_SHI = re.compile(rf"({_CN}{{1,2}})是(?![否非])")
_ENUM_YAO = re.compile(rf"({_CN}{{1,2}})要(?![求点素是害件闻务领])(?=[\u4e00-\u9fff“])")
# (1)…(2)… or ①…②… inside one paragraph, each after punctuation or at the start.
_ENUM_NUM = re.compile(r"[(（](\d{1,2})[)）]|([①-⑳])")
_ENUM_SEQ = re.compile(r"(?:^|(?<=[。；;！？!?\s]))(首先|其次|再次|此外|另外|最后)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def cn_number(numeral: str) -> int:
    """一…九十九 as an int; -1 for anything else (三三 in 三三两两是…)."""
    tens, ten, units = numeral.rpartition("十")
    if len(units) > 1 or len(tens) > 1:
        return -1
    value = CN_DIGITS.index(units) + 1 if units else 0
    if ten:
        value += 10 * (CN_DIGITS.index(tens) + 1 if tens else 1)
    return value


def _shi_marks(text: str, pattern: re.Pattern = _ENUM_SHI) -> list[int]:
    """Starts of 一是/二是/… (or 一要/二要/…) markers that continue a count from 一.

    一是 must follow punctuation or the paragraph start (统一是, 之一是 are words), but a
    later number need only be the next one: a lost full stop (…到60o五是…) still splits.
    """
    marks, expected = [], 0
    for m in pattern.finditer(text):
        n = cn_number(m.group(1))
        if n == 1 and (m.start() == 0 or not _CJK.match(text, m.start() - 1)):
            marks.append(m.start())
            expected = 2
        elif expected and n == expected:
            marks.append(m.start())
            expected += 1
    return marks


def _number_marks(text: str) -> list[int]:
    """Starts of (1)…(2)… or ①…②… counting up from the first, each at the start or after
    punctuation (引用(1) in running text is a reference, not an item)."""
    marks, expected = [], 1
    for m in _ENUM_NUM.finditer(text):
        n = int(m.group(1)) if m.group(1) else ord(m.group(2)) - ord("①") + 1
        if n != expected:
            continue
        if m.start() and _CJK.match(text, m.start() - 1):
            continue
        marks.append(m.start())
        expected += 1
    return marks


def yao_items(text: str) -> bool:
    """一要…二要… in one paragraph: an enumeration, not a section per 要."""
    return len(_shi_marks(text, _ENUM_YAO)) >= 2


def _sequence_marks(text: str) -> list[int]:
    """Starts of 首先…其次…此外…最后: a run opens with 首先 and closes at 最后."""
    marks: list[int] = []
    closed = False
    for m in _ENUM_SEQ.finditer(text):
        if m.group(1) == "首先":
            marks, closed = [m.start()], False
        elif marks and not closed:
            marks.append(m.start())
            closed = m.group(1) == "最后"
    return marks


def enumerated_items(span: Span) -> list[Span]:
    """The items of an enumeration in the paragraph, each from its marker on.

    An item runs to the next marker; the last one runs to the end of the paragraph but
    stops before trailing context (a closing quote or comment). A single 一是 counts only
    when it opens the paragraph; otherwise an enumeration needs two markers.
    """
    starts = _shi_marks(span.text)
    if len(starts) < 2 and starts != [0]:
        for marks in (_shi_marks(span.text, _ENUM_YAO), _number_marks(span.text)):
            starts = marks
            if len(starts) >= 2:
                break
        else:
            starts = _sequence_marks(span.text)
        if len(starts) < 2:
            return []
    items = [span.sub(a, b) for a, b in zip(starts, starts[1:], strict=False)]
    last = span.sub(starts[-1])
    kept = []
    for sentence in sentences(last):
        if kept and is_context(sentence.text):
            break
        kept.append(sentence)
    items.append(Span(last.start, kept[-1].end, last.text[: kept[-1].end - last.start]))
    return items


# --- document metadata ----------------------------------------------------------------

_ROLE = r"(?:党组)?副?(?:书记|主任|司长|局长|厅长|部长|处长|科长|主席|院长|所长|秘书长|巡视员)"
_BYLINE = re.compile(rf"(?P<org>\S+?){_ROLE}(?:[(（][^()（）]*[)）])?\s+(?P<name>\S{{1,6}})")
_BOOK = re.compile(r"《([^《》]{2,40})》一书")
_LOST = re.compile(r"[□?？\ufffd]")


@dataclass
class Block:
    """One paragraph (or table row) read as part of the outline."""

    kind: str  # title | byline | heading | key_task | item | body | row | note | skip
    span: Span
    title: str = ""
    level: int = 0
    subtitle: str = ""
    body: Span | None = None  # the text measures come from
    understanding: bool = False
    marker: Marker | None = None
    # Unit notes inside the paragraph, with absolute offsets, and notes that came from
    # lines below it (labelled lines, a note on a line of its own) or from table cells.
    notes: list[tuple[int, int, UnitNote]] = field(default_factory=list)
    attached: list[UnitNote] = field(default_factory=list)


# --- lines of a notice that are never content ----------------------------------------------

_SKIP = re.compile(
    # 主送: 各县（市、区）人民政府，市政府各部门：  and  同志们：
    r"[^。！？!?]{2,80}[：:]"
    r"|(?:联系人|联系电话|联系方式|电话|传真|邮箱|电子邮箱|抄送|主送|主题词)\s*[：:].*"
    r"|[(（]此件[^()（）]*[)）]|[(（]?(?:此件|本件)(?:公开发布|不公开|主动公开)[)）]?"
    r"|附件\s*\d{0,2}\s*(?:[：:].{0,60})?"
    r"|.{0,40}\d{4}年\d{1,2}月\d{1,2}日印发|.{2,30}文件"
    # 文号 and the 成文日期, in figures or in Chinese numerals, maybe in brackets
    r"|\S{1,16}[〔\[［(（]\d{4}[〕\]］)）]\s*\d{1,4}\s*号"
    r"|[(（]?(?:\d{4}|[〇○零一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月"
    r"[\d一二三四五六七八九十]{1,3}日[)）]?"
)
_DATE_LINE = re.compile(
    r"[(（]?(?:\d{4}|[〇○零一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月"
    r"[\d一二三四五六七八九十]{1,3}日[)）]?"
)
# The cover paragraph of a notice that transmits the plan: 现将《…》印发给你们，请…
_COVER = re.compile(r"印发给你们|现印发给|现予印发|现转发给你们|请认真贯彻(?:执行|落实)")
# The issuing office above the date line at the end.
_ISSUER = re.compile(
    r"[^\s，,。：:；;、]{2,30}(?:政府|办公室|办公厅|委员会|局|委|厅|办|部|院|中心|处|科|室)"
)


def _is_skipped(text: str, marker: "Marker | None") -> bool:
    if marker is None and _SKIP.fullmatch(text):
        return True
    return _COVER.search(text) is not None and len(text) < 200


# --- notes, tables and classification --------------------------------------------------------


def outline_blocks(paras: list[Span]) -> list[Block]:
    """Classify each paragraph: title and byline up front, then headings (a heading line
    directly followed by another short line takes it as its subtitle), key tasks,
    numbered items, plain body paragraphs, unit notes and table rows; then settle the
    outline (see `_settle`)."""
    blocks: list[Block] = []
    previous_item = 0
    header: Header | None = None
    for p in paras:
        if "\t" in p.text:
            cells = tables.split_row(p.text, p.start)
            found = tables.read_header([c.text for c in cells])
            if found:
                header = found
                continue
            if header:
                blocks.extend(_row_blocks(header, cells, blocks))
                continue
        marker = outline_marker(p.text, previous_item)
        if marker and marker.form == "1.":
            previous_item = int(_ITEM_NUMBER.match(p.text).group())
        heading_like = is_heading_like(p.text)
        if header is not None:
            if heading_like or (marker and len(p.text) <= 30 and "。" not in p.text):
                # a category row of the table (一、民生保障), spanning the whole width
                blocks.append(Block("heading", p, title=p.text, level=_level(marker)))
                continue
            header = None
        if _is_skipped(p.text, marker):
            blocks.append(Block("skip", p))
            continue
        note = label_line_note(p.text) or _whole_note(p)
        if note is not None:
            note.at = p.start
            blocks.append(Block("note", p, attached=[note]))
            continue
        prev = next((b for b in reversed(blocks) if b.kind != "skip"), None)
        front = all(b.kind in ("title", "byline", "skip") for b in blocks)
        if front and heading_like and marker is None:
            if _BYLINE.fullmatch(p.text):
                blocks.append(Block("byline", p))
                continue
            if prev is None or prev.kind == "byline":
                blocks.append(Block("title", p, title=p.text))
                continue
        if (
            heading_like
            and marker is None
            and prev is not None
            and prev.kind == "heading"
            and prev.body is None
            and not prev.subtitle
            and prev is blocks[-1]
        ):
            prev.subtitle = p.text
            continue
        blocks.append(_content_block(p, marker, heading_like))
    return _settle(blocks)


def _level(marker: "Marker | None") -> int:
    return marker.level if marker else 1


def _whole_note(p: Span) -> UnitNote | None:
    """A paragraph that is nothing but a note: （市民政局牵头，市财政局配合）。"""
    if p.text[0] not in "(（":
        return None
    notes = find_notes(p.text)
    if notes and notes[0][0] == 0 and notes[-1][1] >= len(p.text.rstrip("。；;，,")):
        merged = notes[0][2]
        for _, _, other in notes[1:]:
            merged.merge(other)
        return merged
    return None


def _trailing_note(p: Span, notes) -> bool:
    return bool(notes) and notes[-1][1] - p.start >= len(p.text.rstrip("。；;，, "))


def _content_block(p: Span, marker: Marker | None, heading_like: bool) -> Block:
    notes = [(p.start + a, p.start + b, n) for a, b, n in find_notes(p.text)]
    block = _classify(p, marker, heading_like, notes)
    block.marker = marker
    block.notes = notes
    return block


# A numbered line this short without a full stop is a heading (一、坚持守正创新，推动…) or,
# when nothing is nested under it, a short task (see _settle).
_SHORT_LINE = 50
_OPEN_END = re.compile(r"[。！？!?；;]")


def _classify(p: Span, marker: Marker | None, heading_like: bool, notes) -> Block:
    if marker and marker.form == "一要" and yao_items(p.text):
        return Block("body", p, body=p)  # 一要…二要…三要 in one paragraph: its items
    if _trailing_note(p, notes):
        # a task with its units: the whole item is one measure, unless it enumerates
        if structure_enumerates(p):
            return Block("item" if marker else "body", p, level=_level(marker), body=p)
        return Block("item", p, level=marker.level if marker else LEAF_LEVEL, body=p)
    if heading_like or (marker and len(p.text) <= _SHORT_LINE and not _OPEN_END.search(p.text)):
        return Block("heading", p, title=p.text, level=marker.level if marker else 1)
    if marker and marker.form == "一要":
        # 一要… opens a section: its first sentence is the section's title.
        lead = first_sentence(p)
        body = p.sub(lead.end - p.start)
        return Block("heading", p, title=lead.text.rstrip("。"), level=1, body=body)
    rest = p.sub(marker.end) if marker else p
    lead = key_task_lead(rest)
    if lead:
        return Block(
            "key_task",
            p,
            title=p.text[: lead.end - p.start].rstrip("。"),
            level=marker.level if marker else LEAF_LEVEL,
            body=p.sub(lead.end - p.start),
            understanding=is_understanding(lead.text),
        )
    if marker and p.text.rstrip().endswith(("：", ":")):
        # a section intro: （一）…行动计划。…实施如下重点项目：
        return Block("heading", p, title=first_sentence(p).text.rstrip("。：:"), level=marker.level)
    if marker:
        return Block("item", p, level=marker.level, body=p)
    return Block("body", p, body=p)


def structure_enumerates(p: Span) -> bool:
    return len(enumerated_items(p)) >= 2


def _row_blocks(header: Header, cells: list, blocks: list[Block]) -> list[Block]:
    """A data row: one task, or a category line, or more units for the task above."""

    def cell(i):
        return cells[i] if i < len(cells) else tables.Cell(0, 0, "")

    filled = [c for c in cells if c.text]
    if not filled:
        return []
    task = cell(header.task)
    seq = next((cell(i) for i in header.columns("seq")), None)
    note = _row_note(header, cell)
    if len(filled) == 1 and not note.has_units and not note.time:
        only = filled[0]
        span = Span(only.start, only.end, only.text)
        return [Block("heading", span, title=only.text, level=_level(outline_marker(only.text)))]
    made = []
    group = cell(header.group) if header.group is not None else tables.Cell(0, 0, "")
    if not task.text and group.text:
        task = group  # only the grouping task is filled: it is the row's task
    elif group.text:
        span = Span(group.start, group.end, group.text)
        made.append(Block("heading", span, title=group.text.rstrip("。"), level=_GROUP_LEVEL))
    if not task.text:
        last = next((b for b in reversed(blocks) if b.kind == "row"), None)
        if last is not None and not (seq and seq.text):
            last.attached.append(note)  # a continuation row: more units for the task above
        return made
    span = Span(task.start, task.end, task.text)
    made.append(Block("row", span, body=span, level=LEAF_LEVEL, attached=[note]))
    return made


# Rows grouped by a task column (部署任务) sit below every numbered level of the document.
_GROUP_LEVEL = 50
_UNIT_ROLES = ("lead", "resp", "co", "leader")


def _row_note(header: Header, cell) -> UnitNote:
    """The unit and deadline cells of a row as one note; 责任单位 is the lead only when the
    row names no 牵头单位 (UnitNote.resolved)."""
    note = UnitNote("")
    parts = []
    for i, role in header.roles.items():
        value = cell(i).text
        if not value or role not in _NOTE_ROLES:
            continue
        parts.append(f"{header.names[i]}：{value}")
        if role == "time":
            note.time = "；".join(filter(None, (note.time, value)))
        elif role == "leader":
            note.leaders.extend(split_top(value))
        else:
            names, splits = split_units(value)
            note.splits.extend(splits)
            target = {"lead": note.lead, "resp": note.resp, "co": note.co}[role]
            target.extend(n for n in names if n not in target)
    note.text = "；".join(parts)
    return note


_NOTE_ROLES = frozenset({*_UNIT_ROLES, "time"})


def _settle(blocks: list[Block]) -> list[Block]:
    """What only the neighbours tell:
    - a note line or labelled line belongs to the block above it (a heading above it is a
      short task: 1.推进项目建设 / 牵头单位：…);
    - an item with numbered children is a heading (2.深化综合改革。/ （1）…/ （2）…);
    - a numbered heading with nothing under it is a task when it is at the deepest level
      under its parent or a sibling is a task (（2）强化居家社区养老), but stays a heading
      beside headings that have content (（一）指导思想 / （二）工作目标 / 1.…);
    - the issuing office above the closing date line is no heading.
    """
    kept: list[Block] = []
    for block in blocks:
        if block.kind == "note":
            owner = next((b for b in reversed(kept) if b.kind != "skip"), None)
            if owner is not None and owner.kind in ("item", "heading", "key_task", "row", "body"):
                if owner.kind == "heading" and owner.body is None and owner.marker:
                    _make_item(owner)
                owner.attached.extend(block.attached)
                continue
            block.kind = "skip"
        kept.append(block)
    for prev, block in pairwise(kept):
        if (
            block.kind == "skip"
            and _DATE_LINE.fullmatch(block.span.text)
            and prev.kind == "heading"
            and _ISSUER.fullmatch(prev.span.text)
        ):
            prev.kind = "skip"  # 临江市人民政府办公室 / 2024年3月12日: who signed, not a section
    content = [b for b in kept if b.kind not in ("skip", "title", "byline")]
    for block, after in zip(content, [*content[1:], None], strict=True):
        if (
            block.kind == "item"
            and block.marker
            and after is not None
            and after.marker
            and after.level > block.level
            and after.kind in ("item", "heading", "key_task")
        ):
            block.kind = "heading"
            block.title = first_sentence(block.span).text.rstrip("。：:")
            block.body = None  # its notes, if any, pass to the children
    _leaf_tasks(content)
    return kept


def _make_item(block: Block) -> None:
    block.kind = "item"
    block.body = block.span
    block.title = ""


def _leaf_tasks(content: list[Block]) -> None:
    numbered = [b for b in content if b.kind in ("heading", "item", "key_task", "row")]
    parent: dict[int, Block | None] = {}
    deepest: dict[int, int] = {}
    stack: list[Block] = []
    for block in numbered:
        if block.kind == "row":
            continue
        level = block.level if (block.marker or block.kind == "heading") else LEAF_LEVEL
        while stack and stack[-1].level >= level:
            stack.pop()
        parent[id(block)] = stack[-1] if stack else None
        for ancestor in stack:
            deepest[id(ancestor)] = max(deepest.get(id(ancestor), 0), level)
        if block.kind == "heading":
            stack.append(block)
    leaves = []
    for block, after in zip(content, [*content[1:], None], strict=True):
        if block.kind != "heading" or not block.marker or block.body is not None:
            continue
        if block.marker.form == "一要":
            continue
        if after is None or (after.marker and after.level <= block.level and after.kind != "row"):
            leaves.append(block)
    for block in leaves:
        up = parent.get(id(block))
        if up is None:
            continue
        siblings = [b for b in numbered if parent.get(id(b)) is up and b.level == block.level]
        if deepest.get(id(up)) == block.level or any(b.kind == "item" for b in siblings):
            _make_item(block)


@dataclass
class Metadata:
    title: str
    title_is_fallback: bool
    organization: str
    author: str
    notes: list[str]


def read_metadata(text: str, blocks: list[Block]) -> Metadata:
    """Title, organisation and author from the title line, the byline and a closing credit
    such as (州民政局供稿). Without a title line the book the text discusses, else the
    first section, stands in, and a note says so."""
    notes: list[str] = []
    organization = author = ""
    title = next((b.title for b in blocks if b.kind == "title"), "")
    byline = next((b for b in blocks if b.kind == "byline"), None)
    if byline:
        m = _BYLINE.fullmatch(byline.span.text)
        organization = m.group("org")
        if _LOST.search(m.group("name")):
            notes.append(f"作者姓名已缺失(署名为“{byline.span.text}”) / the author's name is lost")
        else:
            author = m.group("name")
    if not organization:
        credits = [m for b in blocks if (m := _CREDIT.search(b.span.text))]
        organization = credits[-1].group("org") if credits else ""
    if title:
        return Metadata(title, False, organization, author, notes)
    book = _BOOK.search(text)
    if book:
        title = f"《{book.group(1)}》"
        notes.append(
            f"原文无标题行,标题取自文中所论著作{title} / no title line: "
            "titled after the book the text discusses"
        )
    elif first := next((b for b in blocks if b.kind in ("heading", "key_task")), None):
        title = first.title
        notes.append(
            "原文无标题行,标题取自首个章节 / no title line: titled after the first section"
        )
    elif blocks:
        title = first_sentence(blocks[0].span).text[:40]
        notes.append(
            "原文无标题行,标题取自正文首句 / no title line: titled after the first sentence"
        )
    return Metadata(title, True, organization, author, notes)
