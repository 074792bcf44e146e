"""Turn decoded text into the clean text the ledger quotes from. Pure functions, no Django.

`clean(text)` runs the steps below in order. Each step takes a text and returns the new
text with a Repair for every change a person did not type, so nothing is altered
silently. Repair kinds:

    html       a tag, tag fragment or entity left by a copy from a web page (a closing
               table cell tag becomes a tab, so the row stays a row)
    lost_char  a character a GBK round trip turned into "?" (restored, guessed, or "□")
    mojibake   a run of characters shifted by one lost or damaged byte, decoded again
    wrap       a hard-wrapped line joined back to its paragraph
    pinyin     a reading aid glued after a character: 國(guó)
    space      a stray space inside Chinese text, or a space that stood for a paragraph break
    t2s        one summary: how many traditional characters became simplified (Taiwan-style
               text gets OpenCC's tw2sp, which also restores mainland vocabulary)
    variant    a character OpenCC leaves alone: 著 → 着 (連著 → 连着), 茍 → 苟
    doubled    a word doubled by a bad edit: 建设建设 → 建设

The clean text has one paragraph per line, lines separated by a single "\\n", no blank
lines and no leading or trailing spaces. A table row is one line with its cells joined by
tabs (a row may start with tabs: its first cells are empty). Cleaning clean text changes
nothing.

Every step besides OpenCC is a handful of precompiled regular expressions, so cleaning
costs little more than the t2s conversion itself.
"""

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from html import unescape
from itertools import compress, count, pairwise
from operator import ne
from pathlib import Path

from .read import common_chars
from .types import CleanResult, Repair

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Full-width forms are written as escapes: many fonts and editors show them as ASCII.
# Offices type Chinese punctuation both ways, so the classes below hold both forms.
_OPEN_PAREN = "(\uff08"
_CLOSE_PAREN = ")\uff09"
_SENTENCE_END = "。!?\uff01\uff1f"
_CLAUSE_END = ";:\uff1b\uff1a"
# Chinese punctuation other than brackets (see _STRAY_SPACE).
_CJK_PUNCTUATION = "。、“”‘’《》【】「」『』〈〉…—·\uff0c\uff1b\uff1a\uff1f\uff01"
LOST = "□"  # the publishing convention for a character that cannot be recovered

_HAN_CHAR = re.compile(f"[{HAN}]")
_CONTEXT = 4  # characters of context on each side of a reported change
_SPACE_CHARS = " \t\u3000\xa0"
_SPACES = f"[{_SPACE_CHARS}]+"


def clean(text: str) -> CleanResult:
    repairs: list[Repair] = []
    for step in STEPS:
        text, found = step(text)
        repairs.extend(found)
    return CleanResult(text=text, repairs=repairs)


# --- reporting helpers -----------------------------------------------------------------


class _LineNumbers:
    """1-based line of an offset; the newline index is built only when first asked."""

    def __init__(self, text: str):
        self._text = text
        self._starts: list[int] | None = None

    def __call__(self, offset: int) -> int:
        if self._starts is None:
            self._starts = [m.end() for m in re.finditer("\n", self._text)]
        return bisect_right(self._starts, offset) + 1


def _visible(snippet: str) -> str:
    return snippet.replace("\n", "↵")


def _snippets(text: str, start: int, end: int, new: str) -> tuple[str, str]:
    """The changed span with a little context on each side, before and after."""
    left = text[max(0, start - _CONTEXT) : start]
    right = text[end : end + _CONTEXT]
    return _visible(left + text[start:end] + right), _visible(left + new + right)


def _substitute(
    pattern: re.Pattern, replace: Callable[[re.Match], str], text: str, kind: str
) -> tuple[str, list[Repair]]:
    """`pattern.sub(replace, text)` that reports every match it changes."""
    line_of = _LineNumbers(text)
    repairs = []

    def swap(match: re.Match) -> str:
        new = replace(match)
        if new != match.group(0):
            before, after = _snippets(text, match.start(), match.end(), new)
            repairs.append(Repair(kind, line_of(match.start()), before, after))
        return new

    return pattern.sub(swap, text), repairs


# --- pinyin knowledge ------------------------------------------------------------------

_TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_UNTONED = str.maketrans(_TONE_MARKS, "aaaaeeeeiiiioooouuuuüüüünnnm")
# One syllable as written in an annotation: lowercase letters, tone marks, ü.
_SYLLABLE = rf"[a-zü{_TONE_MARKS}]{{1,6}}"


@cache
def _pinyin_table() -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict  # 40k entries; load on first use only

    return pinyin_dict


def _readings(char: str) -> list[str]:
    reading = _pinyin_table().get(ord(char))
    return reading.split(",") if reading else []


@cache
def _toned_syllables() -> frozenset[str]:
    return frozenset(
        syllable
        for readings in _pinyin_table().values()
        for syllable in readings.split(",")
        if syllable.translate(_UNTONED) != syllable
    )


@cache
def _chars_by_reading() -> dict[str, list[str]]:
    common = common_chars()
    index: dict[str, list[str]] = {}
    for code, readings in _pinyin_table().items():
        char = chr(code)
        if char in common:
            for syllable in readings.split(","):
                index.setdefault(syllable, []).append(char)
    return index


def _is_reading_of(syllable: str, char: str) -> bool:
    """A pinyin annotation for `char`: a toned syllable, or a neutral-tone reading of it.

    Toneless syllables are only believed when the character really has that reading:
    (de) after 的 is pinyin, (a) after 条 is an item label.
    """
    if syllable in _toned_syllables():
        return True
    return syllable in {reading.translate(_UNTONED) for reading in _readings(char)}


# --- 1. HTML remnants ------------------------------------------------------------------

_BLOCK_TAGS = "p|div|br|li|tr|h[1-6]|table|ul|ol|section|article|blockquote|hr"
_INLINE_TAGS = "span|a|b|i|u|em|strong|font|td|th|tbody|thead|img|sup|sub|small|big|s|strike"
_HTML = re.compile(
    r"<!--.*?-->"
    rf"|</?(?P<tag>{_BLOCK_TAGS}|{_INLINE_TAGS})\b[^<>]*>"
    # a closing tag whose "<" was lost when the page was copied: 李???/p> (the lookbehind
    # after the "/", so that every branch starts with a character: see _ANNOTATIONS)
    rf"|/(?<![<\w]/)(?P<fragment>{_BLOCK_TAGS}|{_INLINE_TAGS})>"
    r"|&(?:[a-zA-Z]{2,8}|#\d{2,5}|#x[0-9a-fA-F]{2,4});",
    re.IGNORECASE | re.DOTALL,
)
_BLOCK = re.compile(rf"(?:{_BLOCK_TAGS})$", re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]\b", re.IGNORECASE)


def _replace_html(match: re.Match) -> str:
    tag = match.group("tag") or match.group("fragment")
    if tag:
        if _CELL_END.match(match.group(0)):
            return "\t"  # a table copied as HTML keeps its cells apart
        return "\n" if _BLOCK.match(tag) else ""
    if match.group(0).startswith("<!--"):
        return ""
    return unescape(match.group(0)).replace("\xa0", " ")


def strip_html(text: str) -> tuple[str, list[Repair]]:
    return _substitute(_HTML, _replace_html, text, "html")


# --- 2. lost characters and byte-shift mojibake -----------------------------------------
#
# Text that went through GBK and back loses what GBK cannot hold: each such character
# becomes "?". Where bytes were lost too, the characters after the "?" decode shifted
# by one byte into rare characters and stray ASCII. In the annotated documents the
# pinyin after a character survives the damage and tells what the character was.

_CHAIN = re.compile(rf"(?:\?(?:{_SYLLABLE}[{_CLOSE_PAREN}])?)+")
_UNIT = re.compile(rf"\?(?:({_SYLLABLE})[{_CLOSE_PAREN}])?")
# Up to a dozen characters, then the pinyin of the last of them: 母咚刭|(zhì)
_GARBLED = re.compile(
    rf"([^\s?{_OPEN_PAREN}{_CLOSE_PAREN}]{{1,12}})[{_OPEN_PAREN}]({_SYLLABLE})[{_CLOSE_PAREN}]"
)
_OPENING_MARKS = "《“‘「『"


@dataclass
class _Unit:
    """One "?", with the bare pinyin `syl)` that may follow it."""

    start: int
    end: int
    witness: str | None


@dataclass
class _ByteFix:
    end: int  # where the garbled run ends; its pinyin witness is left to strip_pinyin
    text: str
    lead_byte: bool  # the fix supplied a lost lead byte, which the "?" before it held
    guess: bool


def repair_lost_characters(text: str) -> tuple[str, list[Repair]]:
    pieces: list[str] = []
    repairs: list[Repair] = []
    line_of = _LineNumbers(text)
    counts: Counter | None = None
    done = position = 0
    while chain := _CHAIN.search(text, position):
        units = _units(text, chain.start(), chain.end())
        position = end = units[-1].end
        if counts is None:
            counts = Counter(text)
        fix = _byte_fix(text, end, counts)
        if not fix and len(units) == 1 and units[0].witness is None:
            continue  # a lone "?" with no sign of damage is a question mark
        pieces.append(text[done : chain.start()])
        line = line_of(chain.start())
        if fix and fix.lead_byte:
            fix_start, units = units[-1].start, units[:-1]
        else:
            fix_start = end
        following = fix.text if fix else text[end : end + 1]
        resolved = _resolve_units(text, units, following, counts)
        before = _visible(text[max(0, chain.start() - _CONTEXT) : fix_start + _CONTEXT])
        repairs.extend(Repair("lost_char", line, before, char, guess) for char, guess in resolved)
        pieces.extend(char for char, _ in resolved)
        done = fix_start
        if fix:
            before, after = _snippets(text, fix_start, fix.end, fix.text)
            repairs.append(Repair("mojibake", line, before, after, fix.guess))
            pieces.append(fix.text)
            done = position = fix.end
    pieces.append(text[done:])
    return "".join(pieces), repairs


def _units(text: str, start: int, end: int) -> list[_Unit]:
    units = []
    for match in _UNIT.finditer(text, start, end):
        witness = match.group(1)
        if witness and not _is_syllable(witness):
            units.append(_Unit(match.start(), match.start() + 1, None))
            break  # "?abc)" is a question mark before ordinary text
        units.append(_Unit(match.start(), match.end(), witness))
    return units


def _is_syllable(letters: str) -> bool:
    return letters in _toned_syllables() or letters in _chars_by_reading()


def _resolve_units(
    text: str, units: list[_Unit], following: str, counts: Counter
) -> list[tuple[str, bool]]:
    """What each "?" of a damaged spot stood for: (character, guessed), or nothing.

    Only the last "?" before intact text is trusted with its pinyin; a "?" with pinyin
    followed by more damage is debris of that damage (部?jī)?nèi)議事 is 部內議事).
    """
    resolved = []
    for index, unit in enumerate(units):
        last = index == len(units) - 1
        if unit.witness and last:
            resolved.append(_char_for_reading(unit.witness, counts))
        elif unit.witness:
            continue
        elif (
            last
            and following[:1] in _OPENING_MARKS
            and _HAN_CHAR.fullmatch(text[unit.start - 1 : unit.start])
        ):
            # A character lost between a clause and an opening 《 or “ is most often the
            # full stop that ended the clause.
            resolved.append(("。", True))
        else:
            resolved.append((LOST, False))
    return resolved


def _char_for_reading(syllable: str, counts: Counter) -> tuple[str, bool]:
    """The most likely common character with this reading.

    Characters whose usual reading it is come first (內 for nèi, not 那, which is read
    nèi only in speech), then the more common ones.
    """
    candidates = _chars_by_reading().get(syllable, [])
    if not candidates:
        return LOST, False

    def likelihood(char: str) -> tuple:
        return _readings(char)[0] == syllable, *_commonness(char, counts)

    return max(candidates, key=likelihood), len(candidates) > 1


# The most frequent characters of modern Chinese, most frequent first, in both scripts:
# they rank candidates that the document itself gives no evidence for.
_MOST_FREQUENT = (
    "的一是不了在人有我他这這个個们們中来來上大为為和国國地到以说說时時要就出会會可也你"
    "对對生能而子那得于於着著下自之年过過发發后後作里裡"
)
_FREQUENCY = {char: len(_MOST_FREQUENT) - rank for rank, char in enumerate(_MOST_FREQUENT)}


def _commonness(chars: str, counts: Counter) -> tuple[int, int]:
    """How usual `chars` are: in this document first, then in Chinese at large."""
    return sum(map(counts.__getitem__, chars)), sum(_FREQUENCY.get(char, 0) for char in chars)


def _byte_fix(text: str, at: int, counts: Counter) -> _ByteFix | None:
    """Re-decode a garbled run after a "?" by undoing one byte of damage.

    The run is encoded back to GBK and two repairs are tried: restoring the high bit of
    one stray ASCII byte (?!渡钊雽W → 《深入學), and putting back a lost lead byte
    (母咚刭| → 的高素質). A repair counts only when it decodes to common characters and
    its last character has the reading in the pinyin that follows the run.
    """
    match = _GARBLED.match(text, at)
    if not match:
        return None
    run, witness = match.groups()
    common = common_chars()
    if all(char in common for char in run):
        return None  # ordinary text after a question mark
    try:
        raw = run.encode("gbk")
    except UnicodeEncodeError:
        return None
    for lead_byte, decodings in ((False, _high_bit_fixes(run, raw)), (True, _lead_fixes(raw))):
        accepted = [
            decoded
            for decoded in decodings
            if all(char in common for char in decoded) and witness in _readings(decoded[-1])
        ]
        if accepted:
            best = max(accepted, key=lambda decoded: _commonness(decoded, counts))
            return _ByteFix(match.end(1), best, lead_byte, guess=len(accepted) > 1)
    return None


def _high_bit_fixes(run: str, raw: bytes) -> Iterator[str]:
    offset = 0
    for char in run:
        width = len(char.encode("gbk"))
        if width == 1 and "!" <= char <= "~":
            damaged = bytearray(raw)
            damaged[offset] |= 0x80
            yield from _gbk(bytes(damaged))
        offset += width


def _lead_fixes(raw: bytes) -> Iterator[str]:
    for lead in range(0x81, 0xFF):
        yield from _gbk(bytes((lead,)) + raw)


def _gbk(raw: bytes) -> Iterator[str]:
    try:
        yield raw.decode("gbk")
    except UnicodeDecodeError:
        return


# --- 3. tables and hard-wrapped lines ------------------------------------------------

# A tab between two cells' contents; runs of two or more such lines are a table.
_INNER_TAB = re.compile(r"[^\s]\s*\t\s*[^\s]")
_EDGE_SPACES = " \u3000\xa0\u2002\u2003"


def keep_tables(text: str) -> tuple[str, list[Repair]]:
    """Tab-separated rows stay rows: cells trimmed, joined by one tab each, leading empty
    cells kept (they say which column a value is in). Anywhere else a tab is a space.

    A line with a tab between contents is a row when the next or previous such line is
    separated from it only by category lines (一、民生保障: short, no sentence punctuation,
    which no later step splits or joins); one pasted line with a tab in it is a paragraph.
    A line with only leading tabs (\t\t市医保局) is a row right after a row.
    """
    if "\t" not in text:
        return text, []
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    inner = [i for i in filled if _INNER_TAB.search(lines[i])]
    rank = {i: n for n, i in enumerate(filled)}
    rows = set()
    for a, b in pairwise(inner):
        between = filled[rank[a] + 1 : rank[b]]
        if all(_CATEGORY_LINE.fullmatch(lines[i].strip()) for i in between):
            rows.update((a, b))
    previous_row = False
    for i in filled:
        line = lines[i]
        # A continuation must lead with its tab: a trailing one is trimmed from the row, and
        # the line would read as no row at all when the text is cleaned again.
        continues = previous_row and line.lstrip(_EDGE_SPACES).startswith("\t")
        if "\t" in line and (i in rows or continues):
            cells = [cell.strip(_EDGE_SPACES) for cell in line.split("\t")]
            lines[i] = "\t".join(cells).rstrip("\t")
            previous_row = True
        else:
            lines[i] = line.replace("\t", " ")
            previous_row = previous_row and i in rows
    for i, line in enumerate(lines):
        if "\t" in line and not line.strip():
            lines[i] = ""
    return "\n".join(lines), []


_CATEGORY_LINE = re.compile(r"[^。！？!?；;\t]{1,60}")


# A paragraph ends in sentence-final punctuation, maybe followed by closing quotes or a
# parenthetical such as (州民政局供稿).
_PARAGRAPH_END = re.compile(
    rf"[{_SENTENCE_END}{_CLAUSE_END}….](?:[”’」』》{_CLOSE_PAREN}]"
    rf"|[{_OPEN_PAREN}][^{_OPEN_PAREN}{_CLOSE_PAREN}]{{0,40}}[{_CLOSE_PAREN}])*$"
    # a unit note closes an item even without a full stop: 1.推进…（市发改委牵头）
    rf"|(?:牵头|负责|配合|协办|单位|部门|领导|时限)[^。]{{0,80}}[{_CLOSE_PAREN}]$"
)
# No line starts with these; a line that does continues the one before it.
_CONTINUATION = tuple(f",\uff0c、{_SENTENCE_END}{_CLAUSE_END}{_CLOSE_PAREN}”’」』》…")
# Headings and titles are short; a line this long without final punctuation was wrapped.
# A document wrapped narrower says so by how its lines are distributed (see _wrap_width).
_WRAPPED_LENGTH = 40
_NARROWEST_WRAP = 16
_LATIN_END = re.compile(r"[A-Za-z0-9]$")
_LATIN_START = re.compile(r"[A-Za-z0-9]")
# A line that opens an item or names units is never the tail of the line before it.
_ITEM_START = re.compile(
    r"[一二三四五六七八九十]{1,3}[、要是]|[(\uff08][一二三四五六七八九十\d]{1,3}[)\uff09]"
    r"|\d{1,2}(?:[.\uff0e](?!\d)|、)|[①-⑳]|第[一二三四五六七八九十]{1,3}[,\uff0c、]"
    r"|(?:牵头|责任|配合|协办|参与)(?:单位|部门|领导)\s*[:\uff1a]|完成时限\s*[:\uff1a]"
)


def join_wrapped_lines(text: str) -> tuple[str, list[Repair]]:
    """One paragraph per line: drop blank lines and edge spaces, join wrapped lines.
    Table rows are neither joined nor joined onto."""
    paragraphs: list[list[str]] = []
    repairs = []
    length = 0  # of the paragraph being built, as read
    previous = 0  # line number of its last piece
    lines = text.split("\n")
    width = _wrap_width(lines)
    for number, line in enumerate(lines, start=1):
        if "\t" in line:
            line = line.strip(_EDGE_SPACES).rstrip("\t")
            if line.strip():
                paragraphs.append([line])
                length, previous = 0, number
            continue
        line = line.strip()
        if not line:
            continue
        if paragraphs and _is_wrapped(paragraphs[-1][-1], length, line, width):
            tail = paragraphs[-1][-1]
            glue = " " if _LATIN_END.search(tail) and _LATIN_START.match(line) else ""
            repairs.append(
                Repair(
                    "wrap",
                    previous,
                    f"{tail[-_CONTEXT:]}↵{line[:_CONTEXT]}",
                    f"{tail[-_CONTEXT:]}{glue}{line[:_CONTEXT]}",
                )
            )
            paragraphs[-1].append(glue + line)
            length += _read_length(line)
        else:
            paragraphs.append([line])
            length = _read_length(line)
        previous = number
    return "\n".join("".join(pieces) for pieces in paragraphs), repairs


def _read_length(line: str) -> int:
    """Length as read, without spaces (领 悟 核 心) and pinyin annotations (領(lǐng))."""
    annotations = 0
    if "(" in line or "\uff08" in line:  # most lines have no bracket, hence no annotation
        annotations = sum(len(match.group(0)) for match in _ANNOTATIONS.finditer(line))
    return len(line) - sum(map(line.count, _SPACE_CHARS)) - annotations


def _wrap_width(lines: list[str]) -> int:
    """The length from which a line without final punctuation counts as wrapped.

    A copy of a PDF is wrapped at one width (公文 at 26–28 characters), so most of its
    lines that stop mid-sentence have about the same length; headings, which also lack
    final punctuation, have scattered lengths. When one width (±1) holds 40% of those
    lines and a fifth of all lines, lines from two short of it count as wrapped.
    """
    open_lengths = Counter()
    total = 0
    for line in lines:
        line = line.strip()
        if not line or "\t" in line:
            continue
        total += 1
        if not _PARAGRAPH_END.search(line[-60:]):
            n = _read_length(line)
            if n >= _NARROWEST_WRAP:
                open_lengths[n] += 1
    if not open_lengths:
        return _WRAPPED_LENGTH
    count, width = max(
        (open_lengths[w - 1] + open_lengths[w] + open_lengths[w + 1], w) for w in open_lengths
    )
    if count >= 5 and count >= 0.4 * sum(open_lengths.values()) and count >= 0.2 * total:
        return min(_WRAPPED_LENGTH, max(_NARROWEST_WRAP, width - 2))
    return _WRAPPED_LENGTH


def _is_wrapped(tail: str, length: int, following: str, width: int = _WRAPPED_LENGTH) -> bool:
    if "\t" in tail or _PARAGRAPH_END.search(tail[-60:]) or _ITEM_START.match(following):
        return False
    return length >= width or following.startswith(_CONTINUATION)


# --- 4. pinyin annotations ---------------------------------------------------------------

_ONE_ANNOTATION = rf"[{_OPEN_PAREN}]({_SYLLABLE})[{_CLOSE_PAREN}]"
_ANNOTATION = re.compile(_ONE_ANNOTATION)
# Annotations repeated by a bad edit, 國(guó)(guó), go together with the first.
# Written to start with the bracket, the lookbehind after it: a pattern that starts with a
# lookbehind is tried at every position, one that starts with a character class only where
# the class matches (three times faster).
_ANNOTATIONS = re.compile(
    rf"[{_OPEN_PAREN}](?<=[{HAN}][{_OPEN_PAREN}]){_SYLLABLE}[{_CLOSE_PAREN}]"
    rf"(?:{_ONE_ANNOTATION})*"
)


def _drop_annotations(match: re.Match) -> str:
    annotated = match.string[match.start() - 1]
    run = match.group(0)
    for annotation in _ANNOTATION.finditer(run):
        if not _is_reading_of(annotation.group(1), annotated):
            return run[annotation.start() :]
    return ""


def strip_pinyin(text: str) -> tuple[str, list[Repair]]:
    return _substitute(_ANNOTATIONS, _drop_annotations, text, "pinyin")


# --- 5. spaces ---------------------------------------------------------------------------

# Markers that open a new paragraph: 一要 二是 三、 第四, (五) 6、
_PARAGRAPH_MARKER = (
    r"(?:[一二三四五六七八九十]{1,3}[要是、]|第[一二三四五六七八九十百]{1,4}[,\uff0c、章节条部]"
    rf"|[{_OPEN_PAREN}][一二三四五六七八九十]{{1,3}}[{_CLOSE_PAREN}]|\d{{1,2}}[、.\uff0e])"
)
_NOT_TAB_SPACE = "[ \u3000\xa0]"  # a tab is a table cell boundary, never a stray space
# The space patterns start with the space and look behind it from there (see _ANNOTATIONS).
_PARAGRAPH_BREAK = re.compile(
    rf"{_NOT_TAB_SPACE}(?<=[{_SENTENCE_END}{_CLAUSE_END}]{_NOT_TAB_SPACE})"
    rf"{_NOT_TAB_SPACE}*(?={_PARAGRAPH_MARKER})"
)
# Chinese is written without spaces; a space between two Chinese characters or marks is
# left over from PDF copies (民 政 工 作) or bad typing. ASCII commas and stops count as
# Chinese punctuation only right after a Chinese character ("工作, 我们"); a space after
# a bracket, as in the byline "主任(司长) 李某", or next to Latin text is kept.
_CHINESE = f"{HAN}{_CJK_PUNCTUATION}"
_STRAY_SPACE = re.compile(
    rf"{_NOT_TAB_SPACE}(?:(?<=[{_CHINESE}]{_NOT_TAB_SPACE})|(?<=[{HAN}][,;:!?]{_NOT_TAB_SPACE}))"
    rf"{_NOT_TAB_SPACE}*(?=[{_CHINESE}])"
)
_STRAY_GAP = 2  # spaces this close together are one letter-spaced stretch, one report


def fix_spaces(text: str) -> tuple[str, list[Repair]]:
    """A space before a paragraph marker (。 一要) is a lost line break; others go."""
    text, breaks = _substitute(_PARAGRAPH_BREAK, _break_outside_tables, text, "space")
    text, stray = _drop_stray_spaces(text)
    return text, breaks + stray


def _break_outside_tables(match: re.Match) -> str:
    """A table row keeps its cell's paragraphs on its line."""
    text, at = match.string, match.start()
    line = text[text.rfind("\n", 0, at) + 1 : text.find("\n", at) % (len(text) + 1)]
    return match.group(0) if "\t" in line else "\n"


def _drop_stray_spaces(text: str) -> tuple[str, list[Repair]]:
    """Remove stray spaces, one report per stretch of letter-spaced text."""
    stretches: list[list[re.Match]] = []
    for match in _STRAY_SPACE.finditer(text):
        if stretches and match.start() - stretches[-1][-1].end() <= _STRAY_GAP:
            stretches[-1].append(match)
        else:
            stretches.append([match])
    if not stretches:
        return text, []
    line_of = _LineNumbers(text)
    repairs = []
    for matches in stretches:
        start, end = matches[0].start(), matches[-1].end()
        squeezed = "".join(text[a.end() : b.start()] for a, b in pairwise(matches))
        before, after = _snippets(text, start, end, squeezed)
        repairs.append(Repair("space", line_of(start), before, after))
    return _STRAY_SPACE.sub("", text), repairs


# --- 6. simplified characters -----------------------------------------------------------


@cache
def _converter(config: str):
    import opencc  # the pure-Python reimplementation; its dictionaries load on first use

    return opencc.OpenCC(config)


@cache
def _witnesses(config: str) -> frozenset[str]:
    """Characters such that every key the conversion changes contains one of them.

    A key whose (first) value is the key itself changes nothing where it matches, so a text
    with none of these characters comes out of OpenCC as it went in. They are the characters
    the conversion changes on their own, and for the phrases that change only as a whole
    (反覆 → 反复) a character that each of them has (覆)."""
    converter = _converter(config)
    converter.convert("")  # loads the dictionaries

    def dictionaries(chain):
        for item in chain:
            if isinstance(item, list):
                yield from dictionaries(item)
            else:
                yield item[2]

    changing = {
        key
        for mapping in dictionaries(converter._dict_chain_data)
        for key, value in mapping.items()
        if value.split(" ")[0] != key
    }
    chars = {key for key in changing if len(key) == 1}
    phrases = [key for key in changing if chars.isdisjoint(key)]
    while phrases:
        # A small cover, greedily: the character most of the rest share, one that simplified
        # writing lacks (衹 rather than 得 for 衹得) where there is one.
        counts = Counter(char for key in phrases for char in set(key))
        char = max(sorted(counts), key=lambda c: (not c.encode("gb2312", "ignore"), counts[c]))
        chars.add(char)
        phrases = [key for key in phrases if char not in key]
    return frozenset(chars)


def convert(config: str, text: str) -> str:
    """OpenCC's conversion, skipping the stretches it would leave as they are.

    OpenCC converts each stretch between separators on its own, and a stretch without any
    of _witnesses() comes back unchanged. Most stretches of a mainland document are such
    (most documents have none at all), and the pure-Python converter is the importer's
    slowest step. tests/test_cleaning.py checks the result against OpenCC's."""
    witnesses = _witnesses(config)
    if witnesses.isdisjoint(text):
        return text
    parts = _converter(config).split_chars_re.split(text)
    for i in range(0, len(parts), 2):  # odd items are the separators
        if not witnesses.isdisjoint(parts[i]):
            parts[i] = _convert_stretch(config, parts[i])
    return "".join(parts)


def _convert_stretch(config: str, stretch: str) -> str:
    """OpenCC's conversion of one stretch (convert() would split it again), group by group
    of its dictionaries. A group matches the longest key anywhere in the stretch, then in
    the pieces left and right of it; where none of its keys longer than a character occurs,
    that comes to each character taking its own value (the first dictionary's that has it,
    its first candidate): one str.translate instead of a search per character."""
    converter = _converter(config)
    for group, (longer, table) in zip(converter._dict_chain_data, _groups(config), strict=True):
        if longer is not None and longer.search(stretch):
            stretch = converter._convert(stretch, [group])
        else:
            stretch = stretch.translate(table)
    return stretch


@cache
def _groups(config: str) -> list[tuple[re.Pattern | None, dict[int, str]]]:
    """Per group of the conversion's dictionaries: a pattern of the keys of its dictionaries
    that have keys longer than a character, and the translation its one-character
    dictionaries make."""
    groups = []
    for group in _converter(config)._dict_chain_data:
        keys = {key for longest, _shortest, mapping in group if longest > 1 for key in mapping}
        table = {}
        for longest, _shortest, mapping in reversed(group):  # the first dictionary wins
            if longest == 1:
                table |= {key: value.split(" ")[0] for key, value in mapping.items()}
        alternatives = "|".join(map(re.escape, sorted(keys, key=len, reverse=True)))
        if not all(table.values()):
            alternatives = ""  # OpenCC takes an empty value for no match: always its way
        groups.append((re.compile(alternatives) if keys else None, str.maketrans(table)))
    return groups


# Words only a Taiwan-style text uses (mainland traditional writes 互聯網, 優化, 信息…): two
# of them and the text gets OpenCC's tw2sp, which also turns the vocabulary back.
_TAIWAN = re.compile(
    "網際網路|最佳化|資訊|軟體|硬體|程式|數位|資料庫|伺服器|透過|網路|簡訊|螢幕|滑鼠|介面|檔案|"
    "專案|預設|影音|數據機|行動電話|部落格|線上服務|公車|計程車|落實到位了"
)
_TAIWAN_MIN = 2


def is_taiwan_style(text: str) -> bool:
    hits = set()
    for match in _TAIWAN.finditer(text):
        hits.add(match.group())
        if len(hits) >= _TAIWAN_MIN:
            return True
    return False


def to_simplified(text: str) -> tuple[str, list[Repair]]:
    """OpenCC t2s (tw2sp for Taiwan-style text), reported as one summary: per-character
    reports would bury the rest."""
    simplified = convert("t2s", text)
    if simplified == text:
        return text, []
    # t2s maps every character and phrase to one of the same length, so the texts align.
    changed = sum(map(ne, text, simplified))
    first = next(compress(count(), map(ne, text, simplified)))
    line = text.count("\n", 0, first) + 1
    if is_taiwan_style(text):
        taiwan = convert("tw2sp", text)
        summary = Repair(
            "t2s", line, f"{changed} 个繁体字(台湾用语)", f"{changed} 个简体字(大陆用语)"
        )
        return taiwan, [summary]
    summary = Repair("t2s", line, f"{changed} 个繁体字", f"{changed} 个简体字")
    return simplified, [summary]


def _load_fixes() -> dict[str, str]:
    fixes = {}
    table = Path(__file__).with_name("data") / "simplified_fixes.tsv"
    for line in table.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            wrong, right = line.split("\t")
            fixes[wrong] = right
    return fixes


@cache
def _fixes() -> tuple[dict[str, str], re.Pattern]:
    fixes = _load_fixes()
    alternatives = sorted(fixes, key=len, reverse=True)  # longest first: 著作 before 著
    return fixes, re.compile("|".join(map(re.escape, alternatives)))


def fix_variants(text: str) -> tuple[str, list[Repair]]:
    fixes, pattern = _fixes()
    return _substitute(pattern, lambda match: fixes[match.group(0)], text, "variant")


# --- 7. doubled words -------------------------------------------------------------------

_DOUBLED = re.compile(rf"([{HAN}]{{2,4}})\1+")
# Doubling is grammar in counted phrases (一个一个, 一步一步) and in a few verbs that
# double for "a little" (研究研究); single-character doubling (人人, 习习) never matches.
_NUMERALS = "一二三四五六七八九十两几百千万"
_DOUBLING_VERBS = frozenset({"研究", "讨论", "商量", "考虑", "休息", "活动", "收拾", "琢磨"})


def _collapse(match: re.Match) -> str:
    word = match.group(1)
    if word[0] in _NUMERALS or word in _DOUBLING_VERBS or len(set(word)) == 1:
        return match.group(0)
    return word


def collapse_doubled(text: str) -> tuple[str, list[Repair]]:
    repairs: list[Repair] = []
    while True:  # collapsing 甲乙甲乙丙甲乙丙 reveals 甲乙丙甲乙丙; run until nothing changes
        text, found = _substitute(_DOUBLED, _collapse, text, "doubled")
        if not found:
            return text, repairs
        repairs.extend(found)


# Lost characters are repaired while the pinyin that witnesses them is still there. Wrapped
# lines are joined before the pinyin goes, so that an annotation a wrap cut off its
# character goes too; spaces are squeezed once both are done, since either can bring a
# space next to a Chinese character. OpenCC and the 着 table come after the joins, so that
# they see words a wrap had split, and doubled words last, once t2s has made both copies
# of a word alike.
STEPS = (
    strip_html,
    keep_tables,
    repair_lost_characters,
    join_wrapped_lines,
    strip_pinyin,
    fix_spaces,
    to_simplified,
    fix_variants,
    collapse_doubled,
)
