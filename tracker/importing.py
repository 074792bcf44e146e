"""Write parsed documents into the ledger.

The pipeline (tracker.pipeline) is pure; this module is the one place that turns its
output into rows. Re-importing is safe: a measure is identified by a fingerprint of its
section path and source sentence, staff edits are never overwritten, and measures that
disappeared from a document are archived, never deleted.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Change, Document, Measure, Section, Topic, Unit
from .pipeline import ImportProblem, ParsedDocument, parse_document
from .pipeline.read import load

SUPPORTED_SUFFIXES = {".txt", ".docx", ".xlsx"}
PATH_SEPARATOR = " › "


@dataclass
class DocumentResult:
    source: str
    outcome: str = ""  # created | updated | unchanged | error
    dry_run: bool = False  # counted against the database, then rolled back
    parsed: ParsedDocument | None = None
    created: int = 0
    updated: int = 0
    kept: int = 0  # staff-edited measures left as staff left them
    unchanged: int = 0
    archived: list[str] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def measures(self):
        return self.created + self.updated + self.kept + self.unchanged


@dataclass
class RunResult:
    documents: list[DocumentResult] = field(default_factory=list)

    @property
    def errors(self):
        return [d for d in self.documents if d.outcome == "error"]

    def total(self, attribute):
        return sum(getattr(d, attribute) for d in self.documents)


def collect_sources(paths: Iterable[str | Path]) -> list[tuple[str, Path | None, str]]:
    """Expand folders into their documents. Returns (source, path, error) triples."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
            if not files:
                found.append(
                    (
                        str(path),
                        None,
                        f"{path}: 文件夹中没有 .txt、.docx 或 .xlsx 文件 / no .txt, .docx or .xlsx files in folder",
                    )
                )
            found.extend((source_name(p), p, "") for p in files)
        elif path.exists():
            found.append((source_name(path), path, ""))
        else:
            found.append((str(path), None, f"{path}: 文件不存在 / no such file"))
    return found


def source_name(path: Path) -> str:
    """Sources inside the project are stored relative to it, so a clone imports the same rows."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(resolved)


def import_paths(
    paths: Iterable[str | Path],
    *,
    today: date | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int, DocumentResult], None] | None = None,
) -> RunResult:
    today = today or timezone.localdate()
    sources = collect_sources(paths)
    run = RunResult()
    for index, (source, path, error) in enumerate(sources, start=1):
        if error:
            result = DocumentResult(source=source, outcome="error", error=error)
        else:
            result = import_file(path, source=source, today=today, dry_run=dry_run)
        run.documents.append(result)
        if progress:
            progress(index, len(sources), result)
    return run


def import_file(path: Path, *, source: str, today: date | None = None, dry_run=False):
    """Read, parse and (unless dry_run) save one file. Problems come back as the result's error."""
    result = DocumentResult(source=source)
    try:
        raw = load(path, max_bytes=settings.IMPORT_MAX_BYTES)
        result.parsed = parse_document(raw, source, today=today or timezone.localdate())
    except ImportProblem as problem:
        result.outcome, result.error = "error", str(problem).replace(str(path), source)
        return result
    if dry_run:
        preview(result)
    else:
        save_document(result.parsed, result)
    return result


def preview(result: DocumentResult) -> None:
    """What saving would do, measured by saving and rolling back: the counts are the real ones."""
    result.dry_run = True
    with transaction.atomic():
        save_document(result.parsed, result)
        transaction.set_rollback(True)


def fingerprint(path: str, text: str) -> str:
    return hashlib.sha256(f"{path}\n{text}".encode()).hexdigest()


def flatten(parsed: ParsedDocument):
    """Yield (path, parent path, section draft) for every section, depth first."""
    for top in parsed.outline.sections:
        for titles, section in top.walk():
            path = PATH_SEPARATOR.join(titles)
            parent = PATH_SEPARATOR.join(titles[:-1]) or None
            yield path, parent, section


@transaction.atomic
def save_document(parsed: ParsedDocument, result: DocumentResult) -> None:
    """Create or update one document with its sections and measures, all or nothing."""
    now = timezone.now()
    document = Document.objects.select_for_update().filter(source=parsed.source).first()
    if document and document.sha256 == parsed.sha256:
        result.outcome = "unchanged"
        result.unchanged = document.measures.active().count()
        return
    result.outcome = "updated" if document else "created"
    outline = parsed.outline
    document = document or Document(source=parsed.source, imported_at=now)
    document.sha256 = parsed.sha256
    document.title = outline.title[:300]
    document.title_is_fallback = outline.title_is_fallback
    document.organization = outline.organization[:200]
    document.author = outline.author[:100]
    document.raw_text = parsed.raw_text
    document.clean_text = parsed.clean_text
    document.repairs = [r.as_dict() for r in parsed.repairs]
    document.save()

    sections = save_sections(document, parsed, now)
    save_measures(document, parsed, sections, result, now)


def save_sections(document, parsed, now) -> dict[str, Section]:
    existing = {s.path: s for s in document.sections.all()}
    by_path = {}
    for position, (path, parent_path, draft) in enumerate(flatten(parsed), start=1):
        section = existing.pop(path, None) or Section(document=document, path=path)
        section.parent = by_path.get(parent_path)
        section.kind = draft.kind
        section.title = draft.title[:300]
        section.subtitle = draft.subtitle[:300]
        section.text = draft.text
        section.position = position
        section.archived_at = None
        by_path[path] = section
    # Sections that left the document stay, archived, for the measures that point at them.
    for stale in existing.values():
        stale.archived_at = stale.archived_at or now
    Section.objects.bulk_update(existing.values(), ["archived_at"])
    for section in by_path.values():  # depth first: every parent is saved before its children
        section.save()
    return by_path


def save_measures(document, parsed, sections, result, now) -> None:
    drafts = []
    occurrences = Counter()
    for path, _parent, section_draft in flatten(parsed):
        for draft in section_draft.measures:
            key = fingerprint(path, draft.text)
            occurrences[key] += 1
            if occurrences[key] > 1:  # the same sentence again in one section: "#2", "#3", …
                key = fingerprint(path, f"{draft.text}#{occurrences[key]}")
            drafts.append((key, sections[path], draft))

    # Locked for the rest of the transaction, so a staff edit can't slip in between read and write.
    rows = list(document.measures.select_for_update().prefetch_related("topics"))
    live = {m.fingerprint: m for m in rows if m.archived_at is None}
    gone = sorted((m for m in rows if m.archived_at), key=lambda m: m.archived_at)
    archived = {m.fingerprint: m for m in gone}  # the latest archived row per fingerprint
    archived_by_people = set(
        Change.objects.filter(
            measure__document=document, field="archived", user__isnull=False
        ).values_list("measure_id", flat=True)
    )
    unmatched_new, matched = [], []
    for position, (key, section, draft) in enumerate(drafts, start=1):
        if measure := live.pop(key, None):
            matched.append((measure, key, position, section, draft))
        elif (measure := archived.get(key)) and measure.pk in archived_by_people:
            result.kept += 1  # a supervisor archived it; the source doesn't bring it back
        elif measure:
            # It left the source once and came back: same row, same history.
            measure.restore(None, "原文中重新出现")
            matched.append((measure, key, position, section, draft))
        else:
            unmatched_new.append((key, position, section, draft))

    # A measure whose sentence was reworded in the source keeps its row, its history and any
    # staff edits when it still stands at the same place in the same section.
    by_place = {(m.section_id, m.position): m for m in live.values()}
    created = []
    for key, position, section, draft in unmatched_new:
        measure = by_place.pop((section.pk, position), None)
        if measure:
            del live[measure.fingerprint]
            matched.append((measure, key, position, section, draft))
        else:
            created.append((key, position, section, draft))

    topics = topic_table({t for _, _, d in drafts for t in d.topics})
    names = {n for _, _, d in drafts for n in (*d.lead_units, *d.co_units)}
    units, new_units = Unit.objects.resolve(names, document)
    result.units_created = [u.name for u in new_units]
    for measure, key, position, section, draft in matched:
        update_measure(measure, key, position, section, draft, topics, units, result)

    for measure in live.values():
        measure.archive(None, note="原文中已不再出现此项")
        result.archived.append(measure.title)

    new_measures = Measure.objects.bulk_create(
        [
            Measure(
                document=document,
                section=section,
                position=position,
                fingerprint=key,
                title=draft.title[:100],
                text=draft.text,
                source_start=draft.start,
                source_end=draft.end,
                deadline=draft.deadline,
                deadline_phrase=draft.deadline_text[:50],
                long_term=draft.long_term,
                units_text=draft.units_text[:500],
                unit=lead[0] if (lead := draft_units(draft, units)[0]) else None,
                # Pace (黄灯) runs from assignment; a document that names the unit assigns it.
                assigned_at=now if draft.lead_units else None,
            )
            for key, position, section, draft in created
        ]
    )
    for relation in ("joint_units", "co_units"):
        through = getattr(Measure, relation).through
        through.objects.bulk_create(
            [
                through(measure_id=measure.pk, unit_id=unit.pk)
                for measure, (_, _, _, draft) in zip(new_measures, created, strict=True)
                for unit in draft_relations(draft, units)[relation]
            ]
        )
    Through = Measure.topics.through
    Through.objects.bulk_create(
        [
            Through(measure_id=measure.pk, topic_id=topics[name].pk)
            for measure, (_, _, _, draft) in zip(new_measures, created, strict=True)
            for name in draft.topics
        ]
    )
    Change.objects.write(
        [
            Change(
                measure=measure,
                created_at=now,
                field="created",
                new=measure.title,
                note=f"导入自：{document.title}",
            )
            for measure in new_measures
        ]
    )
    result.created += len(new_measures)


def draft_units(draft, units):
    """(lead units in order, co-units) as Unit rows, each unit once, leads first."""
    lead = list(dict.fromkeys(units[n] for n in draft.lead_units if n in units))
    co = [u for u in dict.fromkeys(units[n] for n in draft.co_units if n in units) if u not in lead]
    return lead, co


def draft_relations(draft, units):
    lead, co = draft_units(draft, units)
    return {"joint_units": lead[1:], "co_units": co}


def update_measure(measure, key, position, section, draft, topics, units, result):
    """Provenance always follows the source; the ledger fields only while nobody edited them."""
    provenance = {
        "fingerprint": key,
        "text": draft.text,
        "section_id": section.pk,
        "position": position,
        "source_start": draft.start,
        "source_end": draft.end,
        "units_text": draft.units_text[:500],
    }
    lead, _co = draft_units(draft, units)
    ledger = {
        "title": draft.title[:100],
        "deadline": draft.deadline,
        "deadline_phrase": draft.deadline_text[:50],
        "long_term": draft.long_term,
        "unit": lead[0] if lead else None,
    }
    fields = dict(provenance)
    if measure.staff_edited_at is None:
        fields |= ledger
    changed = [name for name, value in fields.items() if getattr(measure, name) != value]
    for name in changed:
        if name in ledger or name == "text":
            measure.log(None, name, getattr(measure, name), fields[name], "随原文更新")
        setattr(measure, name, fields[name])
    if changed:
        measure.version += 1  # an open edit form must notice the importer's change
        measure.save()
    if measure.staff_edited_at is None:
        wanted = {topics[name].pk for name in draft.topics}
        if {t.pk for t in measure.topics.all()} != wanted:
            measure.topics.set(wanted)
            changed.append("topics")
        for relation, wanted_units in draft_relations(draft, units).items():
            related = getattr(measure, relation)
            if set(related.all()) != set(wanted_units):
                related.set(wanted_units)
                changed.append(relation)
    # Offsets move whenever text above the measure changes: that is no news to a reader.
    noticed = set(changed) - {"source_start", "source_end"}
    if measure.staff_edited_at is not None:
        result.kept += 1
    elif noticed:
        result.updated += 1
    else:
        result.unchanged += 1


def topic_table(names: set[str]) -> dict[str, Topic]:
    existing = {t.name: t for t in Topic.objects.filter(name__in=names)}
    missing = [Topic(name=name) for name in sorted(names - existing.keys())]
    Topic.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        existing = {t.name: t for t in Topic.objects.filter(name__in=names)}
    return existing
