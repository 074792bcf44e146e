"""Acceptance corpus for the importer (issue 7).

Each document under tests/corpus/ has an expected ledger in tests/corpus/expected/<file>.json,
written by reading the document as a 督查 clerk would, before running the code on it.
Sources are listed in tests/corpus/SOURCES.md.

For every document: the measure count is exact; measure i contains the expected fragment and
has exactly the expected lead units, co-units, deadline and long-term flag; and no unit note,
preamble, heading or header/footer line (`not_measures`) is a measure on its own or starts one.
"""

import json
from datetime import date
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = sorted((CORPUS / "expected").glob("*.json"))
TODAY = date(2026, 11, 23)


def _document_name(expected_path: Path) -> str:
    return expected_path.name.removesuffix(".json")


def _measures(parsed):
    return [m for top in parsed.outline.sections for _, s in top.walk() for m in s.measures]


def _describe(m) -> str:
    deadline = m.deadline.isoformat() if m.deadline else None
    return (
        f"title={m.title!r} lead={m.lead_units!r} co={m.co_units!r} "
        f"deadline={deadline} ({m.deadline_text!r}) long_term={m.long_term} "
        f"units_text={m.units_text!r}\n      text={m.text[:120]!r}"
    )


def _ledger(measures) -> str:
    return "\n".join(f"  [{i}] {_describe(m)}" for i, m in enumerate(measures))


def _squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def parse():
    from tracker.pipeline import parse_document

    cache = {}

    def run(name):
        if name not in cache:
            raw = (CORPUS / name).read_bytes()
            cache[name] = parse_document(raw, name, today=TODAY)
        return cache[name]

    return run


def test_corpus_is_complete():
    assert len(EXPECTED) >= 12
    for path in EXPECTED:
        assert (CORPUS / _document_name(path)).is_file(), f"{path.name}: its document is missing"
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    for path in EXPECTED:
        assert _document_name(path) in sources, f"{_document_name(path)} is not in SOURCES.md"


@pytest.mark.parametrize("expected_path", EXPECTED, ids=[_document_name(p) for p in EXPECTED])
def test_corpus_document(expected_path, parse):
    name = _document_name(expected_path)
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    measures = _measures(parse(name))
    ledger = _ledger(measures)

    assert len(measures) == expected["measure_count"] == len(expected["measures"]), (
        f"{name}: expected {expected['measure_count']} measures, got {len(measures)}:\n{ledger}"
    )

    problems = []
    for i, (want, got) in enumerate(zip(expected["measures"], measures, strict=False)):
        where = f"{name} measure [{i}] (expected to contain {want['text_contains']!r})"
        if want["text_contains"] not in got.text:
            problems.append(f"{where}: text does not contain it\n    got {_describe(got)}")
        if got.lead_units != want["lead_units"]:
            problems.append(
                f"{where}: lead_units {got.lead_units!r} != {want['lead_units']!r}\n"
                f"    got {_describe(got)}"
            )
        if got.co_units != want["co_units"]:
            problems.append(
                f"{where}: co_units {got.co_units!r} != {want['co_units']!r}\n"
                f"    got {_describe(got)}"
            )
        deadline = got.deadline.isoformat() if got.deadline else None
        if deadline != want["deadline"]:
            problems.append(
                f"{where}: deadline {deadline} != {want['deadline']}\n    got {_describe(got)}"
            )
        if got.long_term != want["long_term"]:
            problems.append(
                f"{where}: long_term {got.long_term} != {want['long_term']}\n"
                f"    got {_describe(got)}"
            )

    for i, m in enumerate(measures):
        if not m.text.strip():
            problems.append(f"{name} measure [{i}] has no text\n    got {_describe(m)}")

    for fragment in expected["not_measures"]:
        frag = _squeeze(fragment)
        for i, m in enumerate(measures):
            text = _squeeze(m.text)
            if text and (text in frag or text.startswith(frag)):
                problems.append(
                    f"{name} measure [{i}] is (or starts with) a non-measure {fragment!r}\n"
                    f"    got {_describe(m)}"
                )

    assert not problems, "\n".join(problems) + f"\n\nwhole ledger of {name}:\n{ledger}"
