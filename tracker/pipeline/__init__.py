"""The import pipeline: read → clean → structure → extract. Pure functions, no database."""

import hashlib
from datetime import date

from .types import ImportProblem, ParsedDocument


def parse_document(raw: bytes, source: str, *, today: date) -> ParsedDocument:
    """Turn one file's bytes into a cleaned text and its outline of measures.

    Raises ImportProblem for anything that cannot become a ledger.
    """
    from .clean import clean
    from .extract import build_outline
    from .read import decode

    text = decode(raw, source)
    cleaned = clean(text)
    outline = build_outline(cleaned.text, today=today)
    parsed = ParsedDocument(
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
        raw_text=text,
        clean_text=cleaned.text,
        repairs=cleaned.repairs + outline.repairs,
        outline=outline,
    )
    if parsed.measure_count() == 0:
        raise ImportProblem(f"{source}: 未找到任何督办事项 / no measures found")
    return parsed


__all__ = ["ImportProblem", "ParsedDocument", "parse_document"]
