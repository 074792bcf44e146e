"""Who does a task: 牵头单位, 责任单位, 配合单位 and 责任领导, in the forms documents use.

A note is the text that names them: a trailing parenthetical (（牵头单位：市财政局，配合单位：
市民政局、各有关单位）, （市民政局牵头，市财政局配合）, （市民政局负责）), a labelled line
(牵头单位：市工业和信息化局) or the unit cells of a table row. Collective units keep their
own brackets and 、 (各县（市、区）政府), so every split here is bracket-aware.
"""

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

# Labels and the role they give. 责任单位 is the lead unless a 牵头单位 is also named.
_ROLES = {
    "lead": "牵头单位|牵头部门|牵头处室|主办单位|主责单位|主责部门",
    "resp": "责任单位|责任部门|责任处室|实施单位|落实单位",
    "co": "配合单位|配合部门|协办单位|协助单位|参与单位|协同单位|协作单位",
    "leader": "责任领导|分管领导|牵头领导|牵头市领导|牵头县领导|责任人",
    "time": "完成时限|完成时间|时间节点|时限要求|时间要求|进度安排|完成期限|办结时限|时限",
}
LABEL_ROLE = {label: role for role, labels in _ROLES.items() for label in labels.split("|")}
_LABEL_ALT = "|".join(sorted(LABEL_ROLE, key=len, reverse=True))
_LABEL = re.compile(rf"(?P<label>{_LABEL_ALT})\s*[:：]\s*")
LABEL_LINE = re.compile(rf"(?:{_LABEL_ALT})\s*[:：]")

# A unit name ends in one of these (optionally with a bracketed remark or 等).
UNIT_SUFFIX = (
    "管委会|委员会|办公室|检察院|法院|政府|中心|公司|集团|单位|部门|机关|街道|乡镇|支队|大队|总队"
    "|党委|党组|工委|医院|学校|大学|银行|分行|支行|电视台|报社|工会|妇联|团委|人武部|军分区|系统"
    "|企业|局|委|办|厅|院|室|部|署|会|队|站|所|馆|社|处|科|司|团|组|台|校|联|镇|乡"
)
_UNIT = re.compile(rf"各.+|.*(?:{UNIT_SUFFIX})(?:[(（][^()（）]*[)）])?(?:等(?:单位|部门)?)?")
# Where two names run together (市民政局市财政局) the second starts with a place or 各.
_NEW_UNIT_START = "市省县区州各"
_GLUE_END = re.compile(rf"(?:{UNIT_SUFFIX})$")
# A name-ending character followed by a place character that is a word, not a boundary.
_NOT_A_BOUNDARY = frozenset(
    {"社区", "校区", "院区", "站区", "所区", "园区", "会市", "行市", "部省"}
)

# `X牵头`, `X配合`, `X负责`: the role follows the units.
_VERB = re.compile(
    r"^(?P<units>.+?)(?P<verb>牵头负责|牵头|按职责(?:分工)?(?:负责|落实|配合)|分别负责|分工负责|共同负责"
    r"|负责落实|负责|配合|参与|协办|协助|协同|落实)(?:实施|推进|落实|完成)?$"
)
_VERB_ROLE = {"牵头": "lead", "配合": "co", "参与": "co", "协办": "co", "协助": "co", "协同": "co"}

_OPEN, _CLOSE = "(（", ")）"
_SEPARATORS = "、，,；;/／"
_AND = re.compile(r"[和及与]")


@dataclass
class UnitNote:
    text: str  # the note as written, for provenance
    lead: list[str] = field(default_factory=list)  # named as leading (牵头)
    co: list[str] = field(default_factory=list)  # named as helping (配合, 协办)
    leaders: list[str] = field(default_factory=list)
    time: str = ""  # the 完成时限 part, as written
    splits: list[tuple[str, list[str]]] = field(default_factory=list)  # glued names split
    # 责任单位 / 负责: the lead when nothing else leads, else helping. Kept apart until the
    # whole note is known: 牵头单位 and 责任单位 often sit on separate lines.
    resp: list[str] = field(default_factory=list)
    at: int = -1  # offset of the note's own line when it is not inside its task's text

    @property
    def has_units(self) -> bool:
        return bool(self.lead or self.co or self.leaders or self.resp)

    def resolved(self) -> tuple[list[str], list[str]]:
        """(lead units, co-units) once 责任单位 has found its place."""
        if not self.lead:
            return [*self.resp], [u for u in self.co if u not in self.resp]
        co = [u for u in self.resp + self.co if u not in self.lead]
        return [*self.lead], list(dict.fromkeys(co))

    def copy(self) -> "UnitNote":
        """A note whose lists are its own (the strings and tuples in them are shared)."""
        lists = ("lead", "co", "leaders", "splits", "resp")
        return replace(self, **{name: [*getattr(self, name)] for name in lists})

    def merge(self, other: "UnitNote") -> None:
        """Add a later note (a continuation row, a second label line)."""
        for mine, theirs in (
            (self.lead, other.lead),
            (self.co, other.co),
            (self.resp, other.resp),
        ):
            mine.extend(u for u in theirs if u not in mine)
        self.leaders.extend(u for u in other.leaders if u not in self.leaders)
        self.time = self.time or other.time
        self.splits.extend(other.splits)
        self.text = "；".join(filter(None, (self.text, other.text)))


def split_top(text: str, separators: str = _SEPARATORS) -> list[str]:
    """`text` cut at separators outside brackets, pieces stripped, empty ones dropped."""
    if not _BRACKET.search(text):  # the usual case: no bracket to skip, cut in C
        return [p.strip() for p in _separator_pattern(separators).split(text) if p.strip()]
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and char in separators:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


_BRACKET = re.compile(r"[()（）]")


@lru_cache
def _separator_pattern(separators: str) -> re.Pattern:
    return re.compile(f"[{re.escape(separators)}]")


def is_unit(name: str) -> bool:
    return _UNIT.fullmatch(name) is not None and len(name) >= 2


def _split_and(name: str) -> list[str]:
    """市教育局和市民政局 is two units; 住房和城乡建设局, 人力资源和社会保障局 are one."""
    for m in _AND.finditer(name):
        left, right = name[: m.start()], name[m.end() :]
        if _GLUE_END.search(left) and is_unit(right) and len(right) >= 3:
            return [left, *_split_and(right)]
    return [name]


def split_glued(name: str) -> list[str]:
    """Names run together (市民政局市财政局, 市委市政府) split where one name ends and the
    next starts with a place: 民政局 is never cut inside 市民政局 (市 ends no name), and
    社会组织管理局 never at 组织 (织 starts none)."""
    depth = 0
    for i in range(1, len(name) - 2):
        char = name[i - 1]
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        if (
            i < 2
            or depth
            or name[i] not in _NEW_UNIT_START
            or name[i - 1 : i + 1] in _NOT_A_BOUNDARY
        ):
            continue
        left, right = name[:i], name[i:]
        if _GLUE_END.search(left) and _GLUE_END.search(right.split("（")[0].split("(")[0]):
            return [left, *split_glued(right)]
        if _GLUE_END.search(left) and is_unit(right) and right.startswith("各"):
            return [left, *split_glued(right)]
    return [name]


def split_units(value: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Unit names in a value, and every glued name that had to be split."""
    names, splits = _split_units(value)
    return [*names], [(part, [*parts]) for part, parts in splits]


# A document names the same units on task after task: each value is split once.
@lru_cache(maxsize=1024)
def _split_units(value: str) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    names: list[str] = []
    splits = []
    for piece in split_top(value):
        for part in _split_and(piece):
            parts = split_glued(part)
            if len(parts) > 1:
                splits.append((part, tuple(parts)))
            names.extend(p for p in parts if p not in names)
    return tuple(names), tuple(splits)


def _assign(note: UnitNote, role: str, value: str) -> None:
    if role == "time":
        note.time = "；".join(filter(None, (note.time, value)))
        return
    if role == "leader":
        note.leaders.extend(split_top(value))
        return
    names, splits = split_units(value)
    note.splits.extend(splits)
    target = {"lead": note.lead, "resp": note.resp, "co": note.co}[role]
    target.extend(n for n in names if n not in target)


def _time_phrase(segment: str) -> bool:
    from .deadlines import is_time_phrase  # deadlines has no units; keep the edge one-way

    return is_time_phrase(segment)


def parse_note(content: str) -> UnitNote | None:
    """The units (and 完成时限) a note names, or None when it names none (see _parse_note)."""
    note = _parse_note(content)
    return note and note.copy()


# A document's notes repeat (牵头单位：市民政局 under task after task): each is read once, and
# every caller gets its own copy to fill in.
@lru_cache(maxsize=1024)
def _parse_note(content: str) -> UnitNote | None:
    """The units (and 完成时限) a note names, or None when it names none.

    Labelled parts first (牵头单位：…；配合单位：…), then parts with the role after the
    units (市民政局牵头，市财政局配合), then time phrases. A bare list of units is a note only
    when every name starts with a place or 各 (（市发改委、市财政局）), never （敬老院）.
    """
    content = content.strip().rstrip("。；;，,")
    if not content:
        return None
    note = UnitNote(content)
    labels = list(_LABEL.finditer(content))
    head = content[: labels[0].start()] if labels else content
    if labels:
        for m, nxt in zip(labels, [*labels[1:], None], strict=True):
            value = content[m.end() : nxt.start() if nxt else len(content)].strip(" ；;，,。")
            role = LABEL_ROLE[m.group("label")]
            if role != "time":
                # a time phrase in a unit value (牵头单位：市民政局，2024年底前完成)
                kept = []
                for piece in split_top(value, "；;，,"):
                    if _time_phrase(piece):
                        _assign(note, "time", piece)
                    else:
                        kept.append(piece)
                value = "、".join(kept)
            _assign(note, role, value)
        if not head.strip(" ；;，,"):
            return note
    found = False
    for segment in split_top(head, "；;，,"):
        verb = _VERB.match(segment)
        if verb:
            role = _VERB_ROLE.get(verb.group("verb"), "resp")
            units = split_top(verb.group("units"))
            if units and all(is_unit(u) for u in units):
                _assign(note, role, verb.group("units"))
                found = True
                continue
        if _time_phrase(segment):
            _assign(note, "time", segment)
            found = True
            continue
        units = split_top(segment)
        if units and all(is_unit(u) and u[0] in "市省县区州各国" for u in units):
            _assign(note, "resp", segment)
            found = True
            continue
        if not labels:
            return None  # prose, not a note
    return note if (found or labels) else None


# A bracketed remark, one level of nested brackets allowed (各县（市、区）政府).
PARENTHETICAL = re.compile(r"[(（](?:[^()（）]|[(（][^()（）]*[)）])*[)）]")
_NOTE_CUE = re.compile(
    rf"{_LABEL_ALT}|牵头|负责|配合|协办|参与|协同|落实|\d月|季度|年底|年内|半年|长期|持续|常态化|"
    r"[市省县区州各][^()（）、，,]{1,15}(?:局|委|办|厅|院|部|政府|单位|部门)"
)


def find_notes(text: str) -> list[tuple[int, int, UnitNote]]:
    """Every parenthetical in `text` that is a unit or deadline note: (start, end, note)."""
    found = []
    if "（" not in text and "(" not in text:
        return found
    for m in PARENTHETICAL.finditer(text):
        inner = m.group()[1:-1]
        if not _NOTE_CUE.search(inner):
            continue
        note = parse_note(inner)
        if note and (note.has_units or note.time):
            note.text = m.group()
            found.append((m.start(), m.end(), note))
    return found


def label_line_note(text: str) -> UnitNote | None:
    """A line such as 牵头单位：市工业和信息化局 (several labels may share the line)."""
    if not LABEL_LINE.match(text):
        return None
    note = parse_note(text)
    if note:
        note.text = text
    return note
