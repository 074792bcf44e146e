"""The shape of a cleaned document: paragraphs and sentences, title and byline, headings
with their subtitles, numbered outlines, enumerations and key-task leads.

Input follows the clean-text contract: one paragraph per line, no blank lines. Every span
keeps absolute offsets into that text, so whatever is extracted can point back at its
source. Everything here is a single pass over the text with precompiled patterns.
"""

import re
from dataclasses import dataclass

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
    """One span per non-empty line, trimmed."""
    spans, pos = [], 0
    for line in text.split("\n"):
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


def outline_marker(text: str) -> Marker | None:
    for form, level, pattern in _OUTLINE_FORMS:
        m = pattern.match(text)
        if m:
            return Marker(form, level, m.end())
    return None


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


def _shi_marks(text: str) -> list[int]:
    """Starts of 一是/二是/… markers that continue a count from 一是.

    一是 must follow punctuation or the paragraph start (统一是, 之一是 are words), but a
    later number need only be the next one: a lost full stop (…到60o五是…) still splits.
    """
    marks, expected = [], 0
    for m in _ENUM_SHI.finditer(text):
        n = cn_number(m.group(1))
        if n == 1 and (m.start() == 0 or not _CJK.match(text, m.start() - 1)):
            marks.append(m.start())
            expected = 2
        elif expected and n == expected:
            marks.append(m.start())
            expected += 1
    return marks


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
    """One paragraph read as part of the outline."""

    kind: str  # title | byline | heading | key_task | item | body
    span: Span
    title: str = ""
    level: int = 0
    subtitle: str = ""
    body: Span | None = None  # the text measures come from
    understanding: bool = False


def outline_blocks(paras: list[Span]) -> list[Block]:
    """Classify each paragraph: title and byline up front, then headings (a heading line
    directly followed by another short line takes it as its subtitle), key tasks,
    numbered items and plain body paragraphs."""
    blocks: list[Block] = []
    for p in paras:
        marker = outline_marker(p.text)
        heading_like = is_heading_like(p.text)
        prev = blocks[-1] if blocks else None
        front = all(b.kind in ("title", "byline") for b in blocks)
        if front and heading_like and marker is None:
            if _BYLINE.fullmatch(p.text):
                blocks.append(Block("byline", p))
                continue
            if not blocks or prev.kind == "byline":
                blocks.append(Block("title", p, title=p.text))
                continue
        if (
            heading_like
            and marker is None
            and prev is not None
            and prev.kind == "heading"
            and prev.body is None
            and not prev.subtitle
        ):
            prev.subtitle = p.text
            continue
        blocks.append(_content_block(p, marker, heading_like))
    return blocks


def _content_block(p: Span, marker: Marker | None, heading_like: bool) -> Block:
    if heading_like:
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
    if marker:
        return Block("item", p, body=p)
    return Block("body", p, body=p)


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
