import json

from django.core.management.base import BaseCommand, CommandError

from tracker.importing import import_paths
from tracker.pipeline.types import document_as_dict

OUTCOMES = {
    "created": "新建",
    "updated": "更新",
    "unchanged": "未变化",
    "error": "失败",
}


class Command(BaseCommand):
    help = "从文件导入督办事项（默认 seeds/）。Import measures from documents (default: seeds/)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", default=["seeds"], help="files or folders")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="write nothing; print the ledger and what an import would change",
        )
        # --json is an output format only: it imports like the plain command unless --dry-run.
        parser.add_argument(
            "--json", action="store_true", help="print the ledger as JSON (still imports)"
        )

    def handle(self, *, paths, dry_run, json: bool, **options):
        # With --json, stdout carries only the JSON document; progress goes to stderr.
        log = self.stderr if json else self.stdout
        run = import_paths(
            paths, dry_run=dry_run, progress=lambda i, n, r: log.write(progress_line(i, n, r))
        )
        if json:
            self.stdout.write(dump_json(run))
        elif dry_run:
            for result in run.documents:
                if result.parsed:
                    self.stdout.write(ledger_text(result.parsed))
        log.write(
            f"完成 / done: {len(run.documents)} 个文件, 新建 {run.total('created')}, "
            f"更新 {run.total('updated')}, 保留人工修改 {run.total('kept')}, "
            f"未变化 {run.total('unchanged')}, 归档 {sum(len(d.archived) for d in run.documents)}, "
            f"新建单位 {sum(len(d.units_created) for d in run.documents)}, 失败 {len(run.errors)}"
            + ("（试运行，未写入数据库）" if dry_run else "")
        )
        if run.errors:
            raise CommandError(
                f"{len(run.errors)} 个文件导入失败 / {len(run.errors)} file(s) failed"
            )


def progress_line(index, total, result):
    if result.outcome == "error":
        return f"[{index}/{total}] {result.error}"
    would = "将" if result.dry_run else ""
    line = (
        f"[{index}/{total}] {result.source}: {would}{OUTCOMES[result.outcome]} "
        f"{result.parsed.outline.title} · {result.measures} 项"
    )
    if result.outcome == "updated":
        line += f"（新建 {result.created}，更新 {result.updated}，未变化 {result.unchanged}）"
    if result.kept:
        line += f"（保留人工修改 {result.kept} 项）"
    for title in result.archived:
        line += f"\n    {would}归档 / archived: {title}"
    if result.units_created:
        line += f"\n    {would}新建单位 / new units: {'、'.join(result.units_created)}"
    return line


def dump_json(run):
    payload = {
        "documents": [document_as_dict(r.parsed) for r in run.documents if r.parsed],
        "errors": [{"source": r.source, "error": r.error} for r in run.errors],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def ledger_fields(measure):
    parts = []
    if measure.lead_units:
        parts.append(f"牵头 {'、'.join(measure.lead_units)}")
    if measure.co_units:
        parts.append(f"配合 {'、'.join(measure.co_units)}")
    if measure.deadline:
        parts.append(f"时限 {measure.deadline:%Y-%m-%d}")
    elif measure.long_term:
        parts.append("长期")
    return f" ｜ {'；'.join(parts)}" if parts else ""


def ledger_text(parsed):
    outline = parsed.outline
    lines = [f"{outline.title} · {outline.organization}", *(f"  注: {n}" for n in outline.notes)]
    for top in outline.sections:
        for titles, section in top.walk():
            depth = "  " * len(titles)
            lines.append(
                f"{depth}{section.title}" + (f" / {section.subtitle}" if section.subtitle else "")
            )
            for number, measure in enumerate(section.measures, start=1):
                extra = f" [{'、'.join(measure.topics)}]" if measure.topics else ""
                lines.append(f"{depth}  {number}. {measure.title}{extra}{ledger_fields(measure)}")
    for repair in parsed.repairs:
        if repair.kind in {"mojibake", "lost_char"}:
            flag = "（推测）" if repair.guess else ""
            lines.append(f"  修复 第{repair.line}行: {repair.before} → {repair.after}{flag}")
    return "\n".join(lines)
