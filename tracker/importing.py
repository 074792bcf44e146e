"""Write parsed documents into the ledger.

The pipeline (tracker.pipeline) is pure; this module is the one place that turns its
output into rows. Re-importing is safe: a measure is identified by a fingerprint of its
section path and source sentence, staff edits are never overwritten, and measures that
disappeared from a document are archived, never deleted.
"""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .bulk import insert_many, insert_row, insert_rows, select_in, update_rows
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
    """Create or update one document with its sections and measures, all or nothing.

    The number of queries does not grow with the document: rows of a kind are read once and
    written once (see tests/test_import.py), so the import stays linear in the text.
    """
    now = timezone.now()
    document = imported_before(parsed.source)
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
    if result.outcome == "created":
        insert_row(document)
    else:
        document.save()

    section_ids = save_sections(document, parsed, now, fresh=result.outcome == "created")
    save_measures(document, parsed, section_ids, result, now)


def imported_before(source: str) -> Document | None:
    """The document imported from `source` before, locked for the transaction, or None.

    Probed in plain SQL first: most imports are of new files, and the ORM's lookup cost more
    than the database's work on a short document.
    """
    if not (rows := select_in(Document, ["id"], "source", [source])):
        return None
    return Document.objects.select_for_update().filter(pk=rows[0][0]).first()


SECTION_FIELDS = ("parent", "kind", "title", "subtitle", "text", "position", "archived_at")


def save_sections(document, parsed, now, *, fresh=False) -> dict[str, int]:
    """Write the document's outline; return {path: section id}."""
    existing = {} if fresh else {s.path: s for s in document.sections.all()}
    ids, kept, levels = {}, [], defaultdict(list)
    depth = {None: -1}
    for position, (path, parent_path, draft) in enumerate(flatten(parsed), start=1):
        values = {
            "kind": draft.kind,
            "title": draft.title[:300],
            "subtitle": draft.subtitle[:300],
            "text": draft.text,
            "position": position,
            "archived_at": None,
        }
        depth[path] = depth[parent_path] + 1
        if section := existing.pop(path, None):
            ids[path] = section.pk
            kept.append((section, parent_path, values))
        else:
            levels[depth[path]].append((path, parent_path, values))
    # One INSERT per level of the outline, parents first: each child needs its parent's id.
    template = Section(document=document)
    for level in sorted(levels):
        rows = [
            {"path": path, "parent_id": ids.get(parent_path), **values}
            for path, parent_path, values in levels[level]
        ]
        insert_rows(Section, template, rows)
        ids |= dict(select_in(Section, ["path", "id"], "document", [document.pk]))
    changed = []
    for section, parent_path, values in kept:
        values["parent_id"] = ids.get(parent_path)
        if any(getattr(section, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(section, name, value)
            changed.append(section)
    # Sections that left the document stay, archived, for the measures that point at them.
    for stale in existing.values():
        if stale.archived_at is None:
            stale.archived_at = now
            changed.append(stale)
    Section.objects.bulk_update(changed, SECTION_FIELDS)
    return ids


@dataclass
class Writes:
    """What saving one document's measures writes, gathered so that each kind of row is
    written with one statement however many measures the document has."""

    now: datetime
    history: list[dict] = field(default_factory=list)  # Change fields by attname
    measures: dict[int, Measure] = field(default_factory=dict)  # rows to UPDATE, by pk
    # relation → {measure pk: the ids it should name}; rows of existing measures are replaced
    relations: dict[str, dict[int, set[int]]] = field(default_factory=lambda: defaultdict(dict))
    new_measures: set[int] = field(default_factory=set)  # nothing to replace: no DELETE

    def log(self, measure, name, old, new, note):
        """The history line Measure.log would write, kept for one Change.objects.write_lines."""
        self.history.append(
            {
                "measure_id": measure.pk,
                "created_at": self.now,
                "field": name,
                "old": Measure.display_value(name, old),
                "new": Measure.display_value(name, new),
                "note": note,
                "version": measure.version,
            }
        )

    def save(self, measure):
        measure.updated_at = self.now  # auto_now is not applied by a bulk UPDATE
        self.measures[measure.pk] = measure

    def archive(self, measure, archived, note):
        """Measure.archive/restore by the importer: same row, a new version, a history line."""
        measure.archived_at = self.now if archived else None
        measure.version += 1
        self.log(measure, "archived", *(("", "已归档") if archived else ("已归档", "")), note)
        self.save(measure)


def save_measures(document, parsed, section_ids, result, now) -> None:
    drafts = []
    occurrences = Counter()
    for path, _parent, section_draft in flatten(parsed):
        for draft in section_draft.measures:
            key = fingerprint(path, draft.text)
            occurrences[key] += 1
            if occurrences[key] > 1:  # the same sentence again in one section: "#2", "#3", …
                key = fingerprint(path, f"{draft.text}#{occurrences[key]}")
            drafts.append((key, section_ids[path], draft))

    if result.outcome == "created":
        rows, archived_by_people = [], set()
    else:
        # Locked for the rest of the transaction, so a staff edit can't slip in between read
        # and write. The prefetches let every comparison below run without a query.
        rows = list(
            document.measures.select_for_update().prefetch_related(
                "topics", "joint_units", "co_units"
            )
        )
        archived_by_people = set(
            Change.objects.filter(
                measure__document=document, field="archived", user__isnull=False
            ).values_list("measure_id", flat=True)
        )
    live = {m.fingerprint: m for m in rows if m.archived_at is None}
    gone = sorted((m for m in rows if m.archived_at), key=lambda m: m.archived_at)
    archived = {m.fingerprint: m for m in gone}  # the latest archived row per fingerprint
    writes = Writes(now)
    unmatched_new, matched = [], []
    for position, (key, section_id, draft) in enumerate(drafts, start=1):
        if measure := live.pop(key, None):
            matched.append((measure, key, position, section_id, draft))
        elif (measure := archived.get(key)) and measure.pk in archived_by_people:
            result.kept += 1  # a supervisor archived it; the source doesn't bring it back
        elif measure:
            # It left the source once and came back: same row, same history.
            writes.archive(measure, False, "原文中重新出现")
            matched.append((measure, key, position, section_id, draft))
        else:
            unmatched_new.append((key, position, section_id, draft))

    # A measure whose sentence was reworded in the source keeps its row, its history and any
    # staff edits when it still stands at the same place in the same section.
    by_place = {(m.section_id, m.position): m for m in live.values()}
    created = []
    for key, position, section_id, draft in unmatched_new:
        measure = by_place.pop((section_id, position), None)
        if measure:
            del live[measure.fingerprint]
            matched.append((measure, key, position, section_id, draft))
        else:
            created.append((key, position, section_id, draft))

    topics = topic_table({t for _, _, d in drafts for t in d.topics})
    names = {n for _, _, d in drafts for n in (*d.lead_units, *d.co_units)}
    units, new_units = Unit.objects.resolve(names, document)
    result.units_created = [u.name for u in new_units]
    unit_names = {u.pk: u.name for u in units.values()}
    if missing := {m.unit_id for m, *_ in matched} - unit_names.keys() - {None}:
        unit_names |= {u.pk: u.name for u in Unit.objects.filter(pk__in=missing)}
    for measure, key, position, section_id, draft in matched:
        update_measure(
            measure, key, position, section_id, draft, topics, units, unit_names, result, writes
        )

    for measure in live.values():
        writes.archive(measure, True, "原文中已不再出现此项")
        result.archived.append(measure.title)
    update_rows(Measure, MEASURE_UPDATE_FIELDS, writes.measures.values())

    created_units = [draft_units(draft, units) for *_, draft in created]
    new_rows = [
        {
            "section_id": section_id,
            "position": position,
            "fingerprint": key,
            "title": draft.title[:100],
            "text": draft.text,
            "source_start": draft.start,
            "source_end": draft.end,
            "deadline": draft.deadline,
            "deadline_phrase": draft.deadline_text[:50],
            "long_term": draft.long_term,
            "units_text": draft.units_text[:500],
            "unit_id": lead[0].pk if lead else None,
            # Pace (黄灯) runs from assignment; a document that names the unit assigns it.
            "assigned_at": now if draft.lead_units else None,
        }
        for (key, position, section_id, draft), (lead, _co) in zip(
            created, created_units, strict=True
        )
    ]
    ids = insert_measures(document, new_rows)
    for (key, _position, _section_id, draft), (lead, co) in zip(
        created, created_units, strict=True
    ):
        pk = ids[key]
        writes.new_measures.add(pk)
        writes.relations["topics"][pk] = {topics[name] for name in draft.topics}
        for relation, wanted in unit_relations(lead, co).items():
            writes.relations[relation][pk] = {u.pk for u in wanted}
        writes.history.append(
            {
                "measure_id": pk,
                "created_at": now,
                "field": "created",
                "new": draft.title[:100],
                "note": f"导入自：{document.title}",
            }
        )
    save_relations(writes.relations, writes.new_measures)
    Change.objects.write_lines(writes.history)
    result.created += len(created)


def draft_units(draft, units):
    """(lead units in order, co-units) as Unit rows, each unit once, leads first."""
    # Keyed by id: a model's own __hash__ and __eq__ cost more than the rest of this.
    lead = {units[n].pk: units[n] for n in draft.lead_units if n in units}
    co = {units[n].pk: units[n] for n in draft.co_units if n in units}
    return list(lead.values()), [u for pk, u in co.items() if pk not in lead]


def unit_relations(lead, co):
    """The measure's relations that name units, from draft_units()."""
    return {"joint_units": lead[1:], "co_units": co}


def update_measure(
    measure, key, position, section_id, draft, topics, units, unit_names, result, writes
):
    """Provenance always follows the source; the ledger fields only while nobody edited them."""
    provenance = {
        "fingerprint": key,
        "text": draft.text,
        "section_id": section_id,
        "position": position,
        "source_start": draft.start,
        "source_end": draft.end,
        "units_text": draft.units_text[:500],
    }
    lead, co = draft_units(draft, units)
    ledger = {
        "title": draft.title[:100],
        "deadline": draft.deadline,
        "deadline_phrase": draft.deadline_text[:50],
        "long_term": draft.long_term,
        "unit_id": lead[0].pk if lead else None,
    }
    fields = dict(provenance)
    if measure.staff_edited_at is None:
        fields |= ledger
    changed = [name for name, value in fields.items() if getattr(measure, name) != value]
    for name in changed:
        old, new = getattr(measure, name), fields[name]
        if name == "unit_id":  # by id: reading measure.unit would cost a query per measure
            writes.log(measure, "unit", unit_names.get(old), unit_names.get(new), "随原文更新")
        elif name in ledger or name == "text":
            writes.log(measure, name, old, new, "随原文更新")
        setattr(measure, name, new)
    if changed:
        measure.version += 1  # an open edit form must notice the importer's change
        writes.save(measure)
    if measure.staff_edited_at is None:
        wanted = {
            "topics": {topics[name] for name in draft.topics},
            **{r: {u.pk for u in us} for r, us in unit_relations(lead, co).items()},
        }
        for relation, ids in wanted.items():
            if {r.pk for r in getattr(measure, relation).all()} != ids:  # prefetched
                writes.relations[relation][measure.pk] = ids
                changed.append(relation)
    # Offsets move whenever text above the measure changes: that is no news to a reader.
    noticed = set(changed) - {"source_start", "source_end"}
    if measure.staff_edited_at is not None:
        result.kept += 1
    elif noticed:
        result.updated += 1
    else:
        result.unchanged += 1


# What the importer may change on an existing measure (update_measure, Writes.archive).
MEASURE_UPDATE_FIELDS = (
    "fingerprint",
    "text",
    "section",
    "position",
    "source_start",
    "source_end",
    "units_text",
    "title",
    "deadline",
    "deadline_phrase",
    "long_term",
    "unit",
    "archived_at",
    "version",
    "updated_at",
)


def insert_measures(document, rows: list[dict]) -> dict[str, int]:
    """INSERT new measures of `document`; return {fingerprint: pk} of its live measures."""
    if not rows:
        return {}
    insert_rows(Measure, Measure(document=document), rows)
    # A fingerprint is unique among a document's live measures
    # (measure_unique_live_fingerprint).
    return dict(
        select_in(Measure, ["fingerprint", "id"], "document", [document.pk], live_only=True)
    )


def save_relations(relations: dict[str, dict[int, set[int]]], new_measures=frozenset()):
    """Give each measure exactly the related ids wanted: what .set() does, for all at once."""
    for relation, wanted in relations.items():
        field = Measure._meta.get_field(relation)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        if replaced := [pk for pk in wanted if pk not in new_measures]:
            through.objects.filter(**{f"{source}__in": replaced}).delete()
        columns = [through._meta.get_field(source), through._meta.get_field(target)]
        rows = [[pk, i] for pk, ids in wanted.items() for i in sorted(ids)]
        insert_many(through, columns, rows)


def topic_table(names: set[str]) -> dict[str, int]:
    """{name: topic id}, creating the topics no document named before."""
    if not names:
        return {}
    existing = dict(select_in(Topic, ["name", "id"], "name", sorted(names)))
    if missing := [Topic(name=name) for name in sorted(names - existing.keys())]:
        Topic.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(select_in(Topic, ["name", "id"], "name", sorted(names)))
    return existing
