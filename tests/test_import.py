"""The import into the database and the `seed_measures` command around it."""

import json
import shutil
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tracker.importing import import_paths
from tracker.models import Change, Document, Measure, Section

from .conftest import SEED_000, SEED_003, SEEDS, SMALL_PLAN, TODAY

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("seed_measures", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("seed_measures", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), str(excinfo.value)


def test_seed_folder_imports_both_documents_with_the_spec_counts():
    out, _ = run(SEEDS)
    doc000 = Document.objects.get(source__endswith=SEED_000.name)
    doc003 = Document.objects.get(source__endswith=SEED_003.name)
    assert doc000.measures.count() == 14
    assert doc000.sections.filter(parent=None).count() == 4
    assert 22 <= doc003.measures.count() <= 26
    assert doc003.sections.filter(kind=Section.Kind.HEADING).count() == 3
    assert doc003.sections.filter(kind=Section.Kind.KEY_TASK).count() == 12
    assert doc003.title == "在建设推进中国式现代化新疆实践的典范地州中贡献民政力量"
    assert doc003.organization == "州民政局"
    assert doc000.organization == "民政部办公厅(国际合作司)"
    assert doc000.title_is_fallback
    assert "[1/2]" in out and "[2/2]" in out
    assert "完成 / done: 2 个文件" in out


def test_sources_inside_the_project_are_stored_relative_to_it():
    run(SEED_003)
    assert Document.objects.get().source == f"seeds/{SEED_003.name}"


def test_every_measure_keeps_its_provenance_in_the_clean_text():
    run(SEEDS)
    for measure in Measure.objects.select_related("document", "section"):
        clean = measure.document.clean_text
        assert clean[measure.source_start : measure.source_end] == measure.text
        assert measure.section.document_id == measure.document_id
        assert measure.title and len(measure.title) <= 40


def test_repairs_of_the_mojibake_spots_are_stored_on_the_document():
    run(SEED_000)
    repairs = Document.objects.get().repairs
    mojibake = [r for r in repairs if r["kind"] in {"mojibake", "lost_char"}]
    assert len([r for r in mojibake if "?" in r["before"] and "□" not in r["after"]]) >= 3
    assert {"kind", "line", "before", "after", "guess"} <= set(repairs[0])


def test_reimporting_the_same_files_changes_nothing():
    run(SEEDS)
    before = list(Measure.objects.values_list("pk", "fingerprint", "version", "title"))
    changes = Change.objects.count()
    out, _ = run(SEEDS)
    assert list(Measure.objects.values_list("pk", "fingerprint", "version", "title")) == before
    assert Change.objects.count() == changes
    assert "未变化" in out


def test_creation_is_recorded_in_each_measures_history():
    run(SEED_000)
    measure = Measure.objects.first()
    assert measure.changes.get().field == "created"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_changed_document_updates_untouched_and_keeps_staff_edits(plan_file):
    run(plan_file)
    edited = Measure.objects.get(text__contains="特困人员供养服务设施")
    edited.title = "人工改过的标题"
    edited.staff_edited_at = timezone.now()
    edited.save()
    untouched = Measure.objects.get(text__contains="养老服务人才队伍")
    count = Measure.objects.count()

    changed = SMALL_PLAN.replace("加强养老服务人才队伍建设", "加强养老服务人才队伍和志愿者队伍建设")
    changed = changed.replace("特困人员供养服务设施改造提升", "特困人员供养服务设施改造提升工程")
    out, _ = run(write(plan_file, changed))

    untouched.refresh_from_db()
    assert "志愿者队伍" in untouched.text  # same row, same place, new sentence
    assert untouched.title == "加强养老服务人才队伍和志愿者队伍建设"
    edited.refresh_from_db()
    assert "改造提升工程" in edited.text  # provenance follows the source…
    assert edited.title == "人工改过的标题"  # …and the staff edit stays
    assert edited.archived_at is None
    assert Measure.objects.count() == count
    assert "保留人工修改 1 项" in out


def test_a_reworded_sentence_elsewhere_is_a_new_measure_and_the_old_one_is_archived(plan_file):
    run(plan_file)
    old = Measure.objects.get(text__contains="特困人员供养服务设施")
    moved = SMALL_PLAN.replace("二是推进特困人员供养服务设施改造提升。", "").replace(
        "二是规范临时救助审批", "二是规范临时救助审批。三是推进敬老院改造提升"
    )
    out, _ = run(write(plan_file, moved))
    old.refresh_from_db()
    assert old.archived_at is not None
    assert Measure.objects.active().filter(text__contains="敬老院改造提升").exists()
    assert "归档 / archived:" in out


def test_a_measure_archived_by_a_supervisor_stays_archived_on_reimport(plan_file, supervisor):
    run(plan_file)
    measure = Measure.objects.get(text__contains="特困人员供养服务设施")
    measure.archive(supervisor)
    count = Measure.objects.count()
    run(write(plan_file, SMALL_PLAN + "三、其他\n一是做好殡葬改革宣传。\n"))
    measure.refresh_from_db()
    assert measure.archived_at is not None
    assert Measure.objects.count() == count + 1  # only the new sentence
    assert not Measure.objects.active().filter(text__contains="特困人员供养服务设施").exists()


def test_a_sentence_that_comes_back_restores_its_old_row(plan_file):
    run(plan_file)
    original = Measure.objects.get(text__contains="规范临时救助审批")
    run(write(plan_file, SMALL_PLAN.split("二、")[0]))
    original.refresh_from_db()
    assert original.archived_at is not None
    run(write(plan_file, SMALL_PLAN))
    original.refresh_from_db()
    assert original.archived_at is None
    assert Measure.objects.filter(text__contains="规范临时救助审批").count() == 1
    assert original.changes.filter(field="archived", note="原文中重新出现").exists()


def test_staff_edits_survive_a_reimport_of_a_changed_document(plan_file):
    run(plan_file)
    measure = Measure.objects.get(text__contains="低保动态管理")
    measure.title = "低保复核"
    measure.status = Measure.Status.IN_PROGRESS
    measure.staff_edited_at = timezone.now()
    measure.save()
    out, _ = run(write(plan_file, SMALL_PLAN + "三、其他\n一是做好殡葬改革宣传。\n"))
    measure.refresh_from_db()
    assert measure.title == "低保复核"
    assert measure.status == Measure.Status.IN_PROGRESS
    assert measure.archived_at is None
    assert "保留人工修改 1 项" in out


def test_measures_that_disappear_are_archived_never_deleted(plan_file):
    run(plan_file)
    count = Measure.objects.count()
    shortened = SMALL_PLAN.split("二、")[0]
    out, _ = run(write(plan_file, shortened))
    assert Measure.objects.count() == count
    archived = Measure.objects.filter(archived_at__isnull=False)
    assert archived.count() == 2
    assert all(m.changes.filter(field="archived").exists() for m in archived)
    assert out.count("归档 / archived:") == 2


def test_deadlines_and_topics_come_from_the_text(plan_file):
    run(plan_file)
    measure = Measure.objects.get(text__contains="街道综合养老服务中心")
    assert measure.deadline.isoformat() == "2026-12-31"
    assert "养老服务" in set(measure.topics.values_list("name", flat=True))


def test_dry_run_writes_nothing_and_prints_the_ledger():
    out, _ = run("--dry-run", SEEDS)
    assert Document.objects.count() == 0
    assert Measure.objects.count() == 0
    assert "协助部党组健全“第一议题”制度" in out
    assert "在建设推进中国式现代化新疆实践的典范地州中贡献民政力量" in out


def test_json_output_has_the_documented_shape():
    out, err = run("--json", "--dry-run", SEEDS)
    payload = json.loads(out)
    assert payload["errors"] == []
    doc = payload["documents"][1]
    assert {"source", "title", "organization", "clean_text", "repairs", "sections"} <= set(doc)
    section = doc["sections"][1]
    assert {"title", "subtitle", "sections", "measures"} <= set(section)
    measure = next(m for s in section["sections"] for m in s["measures"])
    assert set(measure) == {
        "title",
        "text",
        "topics",
        "lead_units",
        "co_units",
        "leaders",
        "units_text",
        "deadline",
        "deadline_text",
        "long_term",
    }
    assert "[1/2]" in err  # progress stays off stdout


def test_json_without_dry_run_imports_like_the_plain_command():
    out, _ = run("--json", SEED_003)
    assert json.loads(out)["documents"][0]["title"] == Document.objects.get().title
    assert Measure.objects.count() > 0


def test_dry_run_compares_with_the_database():
    run(SEEDS)
    changes = Change.objects.count()
    out, _ = run("--dry-run", SEEDS)
    assert "将未变化" in out and "将新建" not in out
    assert "新建 0" in out and "试运行，未写入数据库" in out
    assert Change.objects.count() == changes


def test_dry_run_of_a_changed_document_counts_what_would_change(plan_file):
    run(plan_file)
    versions = list(Measure.objects.values_list("version", flat=True))
    changed = SMALL_PLAN.replace("加强养老服务人才队伍建设", "加强养老服务人才队伍和志愿者队伍建设")
    out, _ = run("--dry-run", write(plan_file, changed))
    assert "将更新" in out and "更新 1" in out
    assert list(Measure.objects.values_list("version", flat=True)) == versions
    assert "志愿者" not in "".join(Measure.objects.values_list("text", flat=True))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "文件为空"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "不是文本文件"),
        ("latin.txt", bytes(range(0x80, 0x100)) * 4, "无法识别"),
        ("notes.txt", "今天天气很好。我们去公园散步。".encode(), "未找到任何督办事项"),
    ],
)
def test_bad_file_gets_a_one_line_error_and_good_files_still_import(
    tmp_path, name, content, message
):
    bad = tmp_path / name
    bad.write_bytes(content)
    good = shutil.copy(SEED_003, tmp_path / "good.txt")
    out, _, error = run_failing(bad, good)
    assert error == "1 个文件导入失败 / 1 file(s) failed"
    line = next(line for line in out.splitlines() if name in line)
    assert message in line and " / " in line
    assert Document.objects.get().source.endswith("good.txt")
    assert not Document.objects.filter(source__endswith=name).exists()


def test_missing_path_is_an_error():
    out, _, error = run_failing("no/such/file.txt")
    assert "no/such/file.txt: 文件不存在 / no such file" in out
    assert "1 个文件导入失败" in error


def test_oversized_file_is_refused_without_reading_it(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1000
    big = shutil.copy(SEED_003, tmp_path / "big.txt")
    out, _, _ = run_failing(big)
    assert "big.txt" in out and "超过" in out
    assert Document.objects.count() == 0


def test_a_failure_while_saving_rolls_back_that_document_only(tmp_path, monkeypatch):
    import tracker.importing as importing

    calls = []
    original = importing.save_measures

    def explode_on_second(document, *args):
        calls.append(document.source)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(document, *args)

    monkeypatch.setattr(importing, "save_measures", explode_on_second)
    with pytest.raises(RuntimeError):
        import_paths([SEED_000, SEED_003], today=TODAY)
    assert Document.objects.count() == 1
    assert Section.objects.filter(document__source__endswith=SEED_003.name).count() == 0


# Query counts: a document is read and written kind by kind, never measure by measure. ------

UNIT_NAMES = ("社会救助司", "养老服务司", "办公厅")


def division_plan(items, *, limit="2026年6月底前", skip=()):
    """A 任务分工方案 of `items` tasks under two headings, each with its unit note."""
    lines = ["临江市民政重点任务分工方案"]
    for i in range(1, items + 1):
        if i in (1, items // 2 + 1):
            lines.append("一、加强社会救助" if i == 1 else "二、发展养老服务")
        if i in skip:
            continue
        lead, co = UNIT_NAMES[i % 3], UNIT_NAMES[(i + 1) % 3]
        lines.append(
            f"{i}.完善社会救助和养老服务第{i}项工作机制。（{lead}牵头，{co}配合，{limit}完成）"
        )
    return "\n".join(lines) + "\n"


def queries_to_import(path, text):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    write(path, text)
    with CaptureQueriesContext(connection) as context:
        (result,) = import_paths([path], today=TODAY).documents
    assert result.outcome != "error", result.error
    statements = [q["sql"] for q in context.captured_queries]

    # Rows of a kind are inserted together, but on SQLite in batches of 999 variables (35
    # measures, 124 history lines): an INSERT after a full batch into the same table is the
    # same query. A single-row INSERT is never a full batch, so a row-by-row write counts.
    def table(sql):
        return sql.split(" (", 1)[0] if sql.startswith("INSERT INTO") else None

    batches = sum(
        1 for a, b in pairwise(statements) if table(a) and table(a) == table(b) and "), (" in a
    )
    return len(statements) - batches, result


def test_queries_to_import_a_document_do_not_grow_with_its_measures(tmp_path, units):
    queries_to_import(tmp_path / "warm.txt", division_plan(3))  # topics exist from here on
    small, result = queries_to_import(tmp_path / "small.txt", division_plan(10))
    assert result.created == 10
    large, result = queries_to_import(tmp_path / "large.txt", division_plan(100))
    assert result.created == 100
    assert Measure.objects.get(text__contains="第100项").co_units.get() == units["office"]
    assert large == small <= 15


def test_queries_to_reimport_a_changed_document_do_not_grow_with_its_measures(tmp_path, units):
    counts = {}
    for items in (10, 100):
        path = tmp_path / f"plan{items}.txt"
        queries_to_import(path, division_plan(items))
        staff = Measure.objects.get(text__contains="第2项", document__source__endswith=path.name)
        staff.title = "人工改过的标题"
        staff.staff_edited_at = timezone.now()
        staff.save()
        # Every deadline moves, one task leaves the source: updates, history lines, an archive.
        counts[items], result = queries_to_import(
            path, division_plan(items, limit="2026年9月底前", skip={items})
        )
        assert (result.updated, result.kept, len(result.archived)) == (items - 2, 1, 1)
        staff.refresh_from_db()
        assert staff.title == "人工改过的标题"
        assert staff.deadline.isoformat() == "2026-06-30"  # staff edits always win
    moved = Measure.objects.filter(changes__field="deadline")
    assert moved.count() == 8 + 98
    assert counts[100] == counts[10] <= 20
