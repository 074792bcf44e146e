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

import calendar
import re
from datetime import date

from . import structure
from .structure import Block, Span
from .types import MeasureDraft, Outline, SectionDraft

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


def topics_of(text: str) -> list[str]:
    return [topic for topic, words in TOPICS.items() if any(w in text for w in words)]


# --- deadlines --------------------------------------------------------------------------

_DEADLINE = re.compile(
    r"(?P<y>\d{4})年(?:年底|底|末)前?"
    r"|(?:(?P<ym>\d{4})年)?(?P<m>\d{1,2})月(?:底前?|末前?|(?P<d>\d{1,2})日前)"
    r"|(?:(?P<yq>\d{4})年)?第?(?P<q>[一二三四1-4])季度末前?"
    r"|(?P<rel>今年年底前|今年底前|本年度内|年底前|年末前|年内)"
)
_QUARTERS = "一二三四"
# A date the document was written on: 2024年3月5日 (not a deadline: 3月15日前).
_DOCUMENT_DATE = re.compile(r"(\d{4})年\d{1,2}月\d{1,2}日(?!前)")
_YEAR = re.compile(r"(\d{4})年")


def document_year(text: str, title: str, today: date) -> int:
    """The year relative deadlines (6月底前, 年内) fall in: the document's own date, else a
    year in its title (2026年…实施方案), else this year."""
    m = _DOCUMENT_DATE.search(text) or _YEAR.search(title)
    return int(m.group(1)) if m else today.year


def find_deadline(text: str, year: int) -> tuple[date | None, str]:
    """The first explicit time phrase in the text as (date, phrase), or (None, "")."""
    for m in _DEADLINE.finditer(text):
        try:
            return _deadline_date(m, year), m.group()
        except ValueError:  # 13月底前 and the like: not a date, look further
            continue
    return None, ""


def _deadline_date(m: re.Match, year: int) -> date:
    if m.group("y"):
        return date(int(m.group("y")), 12, 31)
    if m.group("m"):
        y, month = int(m.group("ym") or year), int(m.group("m"))
        if m.group("d"):
            return date(y, month, int(m.group("d")))
        return date(y, month, calendar.monthrange(y, month)[1])
    if m.group("q"):
        q = m.group("q")
        quarter = int(q) if q.isdigit() else _QUARTERS.index(q) + 1
        y = int(m.group("yq") or year)
        return date(y, 3 * quarter, calendar.monthrange(y, 3 * quarter)[1])
    return date(year, 12, 31)


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
    if block.kind == "item":
        return [block.body]
    items = structure.enumerated_items(block.body)
    if items:
        return items
    if block.kind == "body":
        return _directive_spans(block.body)
    return [] if block.understanding else _action_spans(block.body)


def _measure(span: Span, year: int) -> MeasureDraft:
    deadline, phrase = find_deadline(span.text, year)
    return MeasureDraft(
        title=measure_title(span.text),
        text=span.text,
        start=span.start,
        end=span.end,
        topics=topics_of(span.text),
        deadline=deadline,
        deadline_text=phrase,
    )


# --- the outline ------------------------------------------------------------------------


class _Tree:
    """Sections nested by outline level: a new section closes every open one at its level
    or deeper; measures go to the innermost open section."""

    def __init__(self, implicit_title: str):
        self.roots: list[SectionDraft] = []
        self.stack: list[tuple[int, SectionDraft]] = []
        self.implicit_title = implicit_title

    def open(self, level: int, section: SectionDraft) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        (self.stack[-1][1].sections if self.stack else self.roots).append(section)
        self.stack.append((level, section))

    def current(self) -> SectionDraft:
        """The innermost section; measures before any heading get one named after the
        document."""
        if not self.stack:
            self.open(0, SectionDraft(title=self.implicit_title, kind="heading"))
        return self.stack[-1][1]


def build_outline(clean_text: str, *, today: date) -> Outline:
    """The document's title, organisation, author and its sections with their measures."""
    blocks = structure.outline_blocks(structure.paragraphs(clean_text))
    meta = structure.read_metadata(clean_text, blocks)
    year = document_year(clean_text, meta.title, today)
    tree = _Tree(meta.title or "正文")
    understanding = []
    for block in blocks:
        if block.kind == "heading":
            tree.open(
                block.level,
                SectionDraft(title=block.title, kind="heading", subtitle=block.subtitle),
            )
        elif block.kind == "key_task":
            tree.open(block.level, SectionDraft(title=block.title, kind="key_task"))
            if block.understanding:
                understanding.append(block.title)
        if block.body is None:
            continue
        spans = _measure_spans(block)
        if not spans and block.kind == "body":  # context only: no section to open for it
            continue
        section = tree.current()
        section.text = "\n".join(filter(None, (section.text, block.span.text)))
        section.measures.extend(_measure(span, year) for span in spans)
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
    )
