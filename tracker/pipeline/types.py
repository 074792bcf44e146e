"""Plain data passed between the pipeline stages. No Django, no database."""

from dataclasses import dataclass, field
from datetime import date


class ImportProblem(Exception):
    """A file that cannot become a ledger. The message is one line, Chinese then English."""


@dataclass
class Repair:
    # html | pinyin | mojibake | lost_char | t2s | variant | wrap | space | doubled, and
    # unit_split (two unit names run together, split where one name ends)
    kind: str
    line: int  # 1-based line in the text the step worked on
    before: str
    after: str
    guess: bool = False  # True when the text does not prove the repair

    def as_dict(self):
        # Every field is a str, int or bool: a shallow copy is what asdict() would give, at a
        # fraction of its cost (a document can carry thousands of repairs).
        return dict(vars(self))


@dataclass
class CleanResult:
    text: str
    repairs: list[Repair] = field(default_factory=list)


@dataclass
class MeasureDraft:
    title: str  # <= 40 characters, from the action clause
    text: str  # the cleaned source sentence or item, verbatim
    start: int  # offsets of `text` in the document's clean text
    end: int
    topics: list[str] = field(default_factory=list)
    deadline: date | None = None
    deadline_text: str = ""  # the phrase the deadline came from: 2024年6月底前, 长期坚持
    long_term: bool = False  # 长期坚持 / 持续推进: no date, on purpose
    # Units as the document names them, collective ones as written (各县（市、区）政府).
    lead_units: list[str] = field(default_factory=list)  # 牵头单位 (责任单位 when no lead)
    co_units: list[str] = field(default_factory=list)  # 配合单位, 协办单位, 责任单位 beside a lead
    leaders: list[str] = field(default_factory=list)  # 责任领导
    units_text: str = ""  # the phrase, label line or table cells the units came from

    @property
    def deadline_phrase(self) -> str:  # the model's name for deadline_text
        return self.deadline_text


@dataclass
class SectionDraft:
    title: str
    kind: str  # "heading" | "key_task"
    subtitle: str = ""
    text: str = ""  # the whole paragraph the section's measures come from
    sections: list["SectionDraft"] = field(default_factory=list)
    measures: list[MeasureDraft] = field(default_factory=list)

    def walk(self, parents=()):
        """Yield (path titles, section) depth first."""
        path = (*parents, self.title)
        yield path, self
        for child in self.sections:
            yield from child.walk(path)


@dataclass
class Outline:
    title: str
    title_is_fallback: bool
    organization: str
    author: str
    sections: list[SectionDraft]
    notes: list[str] = field(default_factory=list)  # e.g. why the title is a fallback
    repairs: list[Repair] = field(default_factory=list)  # found while reading units


@dataclass
class ParsedDocument:
    source: str
    sha256: str
    raw_text: str
    clean_text: str
    repairs: list[Repair]
    outline: Outline

    def measure_count(self):
        return sum(len(s.measures) for top in self.outline.sections for _, s in top.walk())


def section_as_dict(section: SectionDraft) -> dict:
    return {
        "title": section.title,
        "subtitle": section.subtitle,
        "kind": section.kind,
        "sections": [section_as_dict(child) for child in section.sections],
        "measures": [
            {
                "title": m.title,
                "text": m.text,
                "topics": m.topics,
                "lead_units": m.lead_units,
                "co_units": m.co_units,
                "leaders": m.leaders,
                "units_text": m.units_text,
                "deadline": m.deadline.isoformat() if m.deadline else None,
                "deadline_text": m.deadline_text,
                "long_term": m.long_term,
            }
            for m in section.measures
        ],
    }


def document_as_dict(parsed: ParsedDocument) -> dict:
    """The machine-readable ledger printed by `seed_measures --json`."""
    outline = parsed.outline
    return {
        "source": parsed.source,
        "title": outline.title,
        "title_is_fallback": outline.title_is_fallback,
        "organization": outline.organization,
        "author": outline.author,
        "notes": outline.notes,
        "clean_text": parsed.clean_text,
        "repairs": [r.as_dict() for r in parsed.repairs],
        "sections": [section_as_dict(s) for s in outline.sections],
    }
