"""The whole pipeline is blind to how a document was damaged or encoded."""

import re

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, pinyin

from tracker.pipeline import parse_document

from .conftest import SEED_003, TODAY

HAN = re.compile(r"[\u4e00-\u9fff]")


def ledger(raw: bytes, name="doc.txt"):
    parsed = parse_document(raw, name, today=TODAY)
    rows = []
    for top in parsed.outline.sections:
        for path, section in top.walk():
            rows.extend((path, m.title, m.text, tuple(m.topics)) for m in section.measures)
    return parsed, rows


def traditional_with_pinyin(text: str, every: int = 5) -> str:
    """003 as the damaged copies arrive: traditional characters, some with pinyin glued on."""
    converted = opencc.OpenCC("s2t").convert(text)
    out, count = [], 0
    for ch in converted:
        out.append(ch)
        if HAN.match(ch):
            count += 1
            if count % every == 0:
                out.append(f"({pinyin(ch, style=Style.TONE)[0][0]})")
    return "".join(out)


def test_traditional_copy_with_pinyin_gives_the_same_measures():
    original = SEED_003.read_text(encoding="utf-8")
    damaged = traditional_with_pinyin(original)
    assert "(" in damaged and damaged != original  # the copy really is damaged
    _, expected = ledger(original.encode("utf-8"))
    _, got = ledger(damaged.encode("utf-8"))
    assert got == expected
    assert len(expected) >= 22


def test_gb18030_copy_gives_the_same_measures():
    original = SEED_003.read_bytes()
    _, expected = ledger(original)
    _, got = ledger(original.decode("utf-8").encode("gb18030"))
    assert got == expected


def test_traditional_gb18030_copy_gives_the_same_measures():
    original = SEED_003.read_text(encoding="utf-8")
    _, expected = ledger(original.encode("utf-8"))
    _, got = ledger(traditional_with_pinyin(original, every=3).encode("gb18030"))
    assert got == expected


@settings(max_examples=25, deadline=None)
@given(every=st.integers(min_value=1, max_value=40))
def test_any_density_of_pinyin_gives_the_same_measures(every):
    original = SEED_003.read_text(encoding="utf-8")
    _, expected = ledger(original.encode("utf-8"))
    _, got = ledger(traditional_with_pinyin(original, every=every).encode("utf-8"))
    assert got == expected


def test_json_ledger_carries_units_and_deadlines():
    from tracker.pipeline.types import document_as_dict

    text = "2024年任务分工\n一、任务\n1.完善低保制度。（市民政局市财政局牵头，市医保局配合，第三季度完成）\n"
    parsed = parse_document(text.encode(), "plan.txt", today=TODAY)
    [measure] = document_as_dict(parsed)["sections"][0]["measures"]
    assert {k: measure[k] for k in ("lead_units", "co_units", "deadline", "long_term")} == {
        "lead_units": ["市民政局", "市财政局"],
        "co_units": ["市医保局"],
        "deadline": "2024-09-30",
        "long_term": False,
    }
    assert measure["deadline_text"] == "第三季度完成"
    assert measure["units_text"] == "（市民政局市财政局牵头，市医保局配合，第三季度完成）"
    [split] = [r for r in parsed.repairs if r.kind == "unit_split"]
    assert (split.line, split.before, split.after) == (3, "市民政局市财政局", "市民政局、市财政局")


def test_seed_measures_name_no_units():
    parsed, _ = ledger(SEED_003.read_bytes())
    for top in parsed.outline.sections:
        for _, section in top.walk():
            assert all(not m.lead_units and not m.co_units for m in section.measures)
