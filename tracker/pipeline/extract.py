"""Measures out of the outline: which sentences are actions, their titles, topics and
deadlines, assembled into the Outline the importer saves.

Which text becomes a measure:
- where a paragraph enumerates (一是…二是…, 首先…其次…), each item, marker included;
- otherwise, in a key-task paragraph (or an 一要 section), each action sentence after the
  lead. A sentence that only states a purpose or result (使…, 确保…, 从而…) joins the
  action right before it; after commentary it stands alone, since a target is still a task.
  In the seeds every purpose (兜牢民生底线, 使人民群众获得感…) already sits inside its
  action's sentence, so there one sentence is one measure (4+3+3+3 and 1+3+3+2 in 003);
- in any other paragraph, only the 要… sentences of a speech summary (会议强调,要…);
- a numbered body paragraph (1. …, (一)… with no lead) is one measure.
Key tasks that ask to understand (深刻领悟…) rather than act yield no measures: their
paragraphs are quotes and commentary, and their 我们必须… sentences state an attitude no
one can be asked to report on (only two of 003's four even have one). Quotes, commentary,
slogans and boilerplate never count.
"""

import re
from bisect import bisect_right
from datetime import date

from . import structure
from .deadlines import document_year, find_deadline, parse_limit
from .structure import Block, Span
from .types import MeasureDraft, Outline, Repair, SectionDraft
from .units import UnitNote

__all__ = ["build_outline", "document_year", "find_deadline", "measure_title", "topics_of"]

TITLE_MAX = 40

# --- titles -------------------------------------------------------------------------

_CN = f"[{structure.CN_DIGITS}]"
# A marker in front of the action: 一是, 首先, 1., (一)…, then optional punctuation.
_TITLE_MARKER = re.compile(
    rf"(?:{_CN}{{1,2}}是|首先|其次|再次|此外|另外|最后|{_CN}{{1,3}}、|[(（]{_CN}{{1,3}}[)）]"
    r"|[(（]\d{1,2}[)）]|\d{1,2}(?:[.．](?!\d)|、))?[,，:：]?\s*"
)
# A directive in a speech summary: [会议强调,][各级民政部门]要… (not 要求, 重要, 要点…).
_ATTRIBUTION = (
    r"(?:会议|[他她]|[\u4e00-\u9fff]{2,8}(?:书记|局长|厅长|部长|主任|县长|市长|州长|主席))"
    r"(?:强调|指出|要求|提出|表示)[,，:：]"
)
_SUBJECT = (
    r"(?:我们|大家|各地|各级[\u4e00-\u9fff]{0,6}|各[\u4e00-\u9fff]{0,4}(?:部门|单位)"
    r"|[\u4e00-\u9fff]{0,6}(?:部门|单位|系统|机关|干部|党员))"
)
_DIRECTIVE = re.compile(rf"(?:{_ATTRIBUTION})?{_SUBJECT}?要(?![求点素是害件闻务领])")
# A clause runs to the next , ; : or full stop outside quotes and brackets.
_CLAUSE = re.compile(r"(?:“[^“”]*”|[(（][^()（）]*[)）]|[^,，;；:：。！？!?])+")
# Framing in front of the action (围绕增进民生福祉, 紧抓…有利契机): not what is done.
_FRAMING = re.compile(
    r"围绕|紧抓|抓住|紧紧抓住|按照|根据|依据|对照|结合|立足|着眼|借助|依托|面对|随着|为了"
)
_OPENERS = (("“", "”"), ("(", ")"), ("（", "）"))


def measure_title(text: str) -> str:
    """The action clause, without its enumeration marker or 会议强调,要, ≤ 40 characters."""
    rest = text[_TITLE_MARKER.match(text).end() :]
    directive = _DIRECTIVE.match(rest)
    if directive:
        rest = rest[directive.end() :]
    clauses = [m.group() for m in _CLAUSE.finditer(rest)]
    if not clauses:
        return _clip(rest)
    if len(clauses) > 1 and _FRAMING.match(clauses[0]):
        return _clip(clauses[1])
    return _clip(clauses[0])


def _clip(title: str) -> str:
    """Cut at 40 characters, never inside a quote or bracket, marking the cut with …."""
    title = title.strip()
    if len(title) <= TITLE_MAX:
        return title
    cut = title[: TITLE_MAX - 1]
    for opener, closer in _OPENERS:
        at = cut.rfind(opener)
        if at > 0 and cut.find(closer, at) < 0:
            cut = cut[:at]
    return cut.rstrip("、和及与") + "…"


# --- topics ---------------------------------------------------------------------------

# The fields of civil-affairs work and the words that place a measure in them. A measure
# gets every topic one of whose words it contains.
TOPICS: dict[str, tuple[str, ...]] = {
    "养老服务": ("养老", "敬老院", "老年人", "日间照料", "助餐"),
    "社会救助": ("救助", "低保", "特困"),
    "信访": ("信访",),
    "基层治理": (
        "基层治理",
        "社会治理",
        "社区治理",
        "乡村治理",
        "村(居)民",
        "居民委员会",
        "村民委员会",
        "议事协商",
        "村规民约",
        "三治融合",
    ),
    "社会组织": ("社会组织",),
    "社会工作": ("社会工作", "社工", "志愿服务", "五社联动"),
    "慈善": ("慈善",),
    "殡葬": ("殡葬", "殡仪", "公墓"),
    "婚姻登记": ("婚姻", "婚育"),
    "未成年人保护": ("未成年人",),
    "儿童福利": ("儿童",),
    "区划地名": ("行政区划", "地名"),
    "党建": (
        "党建",
        "党的建设",
        "党组织",
        "党支部",
        "党员",
        "第一议题",
        "政治建设",
        "两个维护",
        "政治纪律",
    ),
    "宣传": ("宣传", "新闻"),
    "安全生产": ("安全生产", "安全管理"),
    "外事": ("外事", "港澳", "国际", "一带一路"),
    "项目资金": ("项目", "资金", "彩票公益金"),
    "干部队伍": ("干部队伍", "人才", "教育培训", "选拔", "年轻干部"),
    "党风廉政": ("廉政", "廉洁", "八项规定", "四风", "从严治党", "巡视", "巡察", "反腐败", "作风"),
    "督查督办": ("督促落实", "督查", "督办", "跟踪问效", "闭环", "回头看", "整改", "任务落实"),
    "政务服务": (
        "建议提案",
        "政务信息",
        "信息公开",
        "网站留言",
        "公文",
        "文稿",
        "值守",
        "参谋助手",
        "放管服",
        "营商环境",
    ),
}


_TOPIC_OF = {word: topic for topic, words in TOPICS.items() for word in words}
_TOPIC_ORDER = {topic: n for n, topic in enumerate(TOPICS)}
# One scan instead of an `in` per keyword, longest keyword first where several start.
_TOPIC_WORDS = re.compile("|".join(map(re.escape, sorted(_TOPIC_OF, key=len, reverse=True))))
# A keyword that starts another keyword would be hidden at the position they share.
assert not any(
    a != b and b.startswith(a) and _TOPIC_OF[a] != _TOPIC_OF[b]
    for a in _TOPIC_OF
    for b in _TOPIC_OF
), "topic keywords must not prefix another topic's keyword"


def topics_of(text: str) -> list[str]:
    found = set()
    start = 0
    # Each search resumes one past the last match, so a keyword inside a longer one (a
    # different topic's) is still found where it starts. Not a lookahead at every
    # position: a pattern that starts with its keywords skips to where one can start.
    while match := _TOPIC_WORDS.search(text, start):
        found.add(_TOPIC_OF[match.group()])
        start = match.start() + 1
    return sorted(found, key=_TOPIC_ORDER.__getitem__)


# --- deadlines: see deadlines.py ---------------------------------------------------------

# --- measures -----------------------------------------------------------------------------

# A sentence that only says what the action before it is for.
_PURPOSE = re.compile(r"从而|进而|以此|以便|使(?!用)|让|确保")


def _action_spans(body: Span) -> list[Span]:
    """Action sentences of a key-task paragraph; a purpose sentence joins the one before."""
    spans: list[Span] = []
    joinable = False
    for sentence in structure.sentences(body):
        if structure.is_context(sentence.text):
            joinable = False
        elif joinable and _PURPOSE.match(sentence.text):
            prev = spans[-1]
            text = body.text[prev.start - body.start : sentence.end - body.start]
            spans[-1] = Span(prev.start, sentence.end, text)
        else:
            spans.append(sentence)
            joinable = True
    return spans


def _directive_spans(body: Span) -> list[Span]:
    """The 要… sentences of a speech summary."""
    return [
        s
        for s in structure.sentences(body)
        if _DIRECTIVE.match(s.text) and not structure.is_context(s.text)
    ]


def _measure_spans(block: Block) -> list[Span]:
    if block.kind in ("item", "row"):
        return [block.body]
    items = structure.enumerated_items(block.body)
    if items:
        return items
    if block.kind == "body":
        return _directive_spans(block.body)
    return [] if block.understanding else _action_spans(block.body)


def _merged(notes: list[UnitNote]) -> UnitNote | None:
    if not notes:
        return None
    merged = UnitNote("")
    merged.splits = []
    for note in notes:
        merged.merge(note)
    return merged


def _measure(span: Span, year: int, note: UnitNote | None) -> MeasureDraft:
    """A measure with its units and deadline: a note's 完成时限 wins over the text's dates."""
    deadline, phrase, long_term = None, "", False
    if note and note.time:
        deadline, long_term = parse_limit(note.time, year)
        if deadline or long_term:
            phrase = note.time
    if not phrase:
        deadline, phrase = find_deadline(span.text, year)
    # the title is the task's clause, never the start of its unit note
    bare = span.text.replace(note.text, "") if note and note.text else span.text
    measure = MeasureDraft(
        title=measure_title(bare or span.text),
        text=span.text,
        start=span.start,
        end=span.end,
        topics=topics_of(span.text),
        deadline=deadline,
        deadline_text=phrase,
        long_term=long_term,
    )
    if note:
        measure.lead_units, measure.co_units = note.resolved()
        measure.leaders = [*note.leaders]
        measure.units_text = note.text
    return measure


def _block_measures(block: Block, year: int, inherited: UnitNote | None) -> list[MeasureDraft]:
    """The block's measures, each with the notes inside it, else the block's own notes
    (a trailing note, labelled lines, table cells), else its section's."""
    spans = _measure_spans(block)
    inside = [False] * len(block.notes)
    own_notes = []
    for span in spans:
        own = []
        for k, (start, end, note) in enumerate(block.notes):
            if span.start <= start and end <= span.end:
                own.append(note)
                inside[k] = True
        own_notes.append(own)
    shared = [n for k, (_, _, n) in enumerate(block.notes) if not inside[k]] + block.attached
    if len(spans) > 1 and block.notes and not shared:
        # a note closing the last of several items speaks for all of them
        last = own_notes[-1]
        if last and block.notes[-1][1] >= block.span.end - 1:
            shared = [block.notes[-1][2]]
            own_notes[-1] = [n for n in last if n is not shared[0]]
    fallback = _merged(shared) or inherited
    return [
        _measure(span, year, _merged(own) if own else fallback)
        for span, own in zip(spans, own_notes, strict=True)
    ]


# --- the outline ------------------------------------------------------------------------


class _Tree:
    """Sections nested by outline level: a new section closes every open one at its level
    or deeper; measures go to the innermost open section. A section may carry a unit note
    (（一）…（牵头单位：…）, a labelled line under a heading) that its measures inherit."""

    def __init__(self, implicit_title: str):
        self.roots: list[SectionDraft] = []
        self.stack: list[tuple[int, SectionDraft, UnitNote | None]] = []
        self.implicit_title = implicit_title

    def open(self, level: int, section: SectionDraft, note: UnitNote | None = None) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        (self.stack[-1][1].sections if self.stack else self.roots).append(section)
        self.stack.append((level, section, note))

    def current(self) -> SectionDraft:
        """The innermost section; measures before any heading get one named after the
        document."""
        if not self.stack:
            self.open(0, SectionDraft(title=self.implicit_title, kind="heading"))
        return self.stack[-1][1]

    def note(self) -> UnitNote | None:
        return next((n for _, _, n in reversed(self.stack) if n is not None), None)


def build_outline(clean_text: str, *, today: date) -> Outline:
    """The document's title, organisation, author and its sections with their measures."""
    blocks = structure.outline_blocks(structure.paragraphs(clean_text))
    meta = structure.read_metadata(clean_text, blocks)
    year = document_year(clean_text, meta.title, today)
    tree = _Tree(meta.title or "正文")
    understanding = []
    repairs: list[Repair] = []
    line_of = _line_numbers(clean_text)
    for block in blocks:
        if block.kind == "skip":
            continue
        notes = [n for _, _, n in block.notes] + block.attached
        for note in notes:
            line = line_of(note.at if note.at >= 0 else block.span.start)
            for before, parts in note.splits:
                repairs.append(Repair("unit_split", line, before, "、".join(parts)))
        if block.kind == "heading":
            section_note = _merged(notes) if notes else None
            tree.open(
                block.level,
                SectionDraft(title=block.title, kind="heading", subtitle=block.subtitle),
                section_note,
            )
        elif block.kind == "key_task":
            tree.open(block.level, SectionDraft(title=block.title, kind="key_task"))
            if block.understanding:
                understanding.append(block.title)
        if block.body is None:
            continue
        measures = _block_measures(block, year, tree.note())
        if not measures and block.kind == "body":  # context only: no section to open for it
            continue
        section = tree.current()
        section.text = "\n".join(filter(None, (section.text, block.span.text)))
        section.measures.extend(measures)
    notes = list(meta.notes)
    if understanding:
        notes.append(
            f"{len(understanding)}项重点任务为思想认识要求(如“{understanding[0]}”),"
            "段落为引文与论述,不列督办事项 / key tasks that ask for understanding, "
            "not action, have no measures"
        )
    return Outline(
        title=meta.title,
        title_is_fallback=meta.title_is_fallback,
        organization=meta.organization,
        author=meta.author,
        sections=tree.roots,
        notes=notes,
        repairs=repairs,
    )


def _line_numbers(text: str):
    starts = []

    def line_of(offset: int) -> int:
        # Built on the first question: most documents have no unit split to report.
        if not starts:
            starts.extend([0, *(match.end() for match in re.finditer("\n", text))])
        return bisect_right(starts, offset)

    return line_of
