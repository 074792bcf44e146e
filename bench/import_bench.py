"""Import benchmark: the whole import of generated documents against OpenCC alone.

The mix is what a 督查 office receives: the two seed essays and the acceptance corpus
(tests/corpus: task-division plans, pasted and Word/Excel task tables, work points,
speeches, news, a PDF copy, a Taiwan-style traditional copy, GB18030), each perturbed per
copy, and generated task-division plans with unit parentheticals and with labelled lines
(some hard-wrapped at 27 characters), a task table pasted as tab-separated text, and the
same table as .docx and as .xlsx.

Every document goes the `seed_measures` way (read the file, decode, clean with OpenCC,
structure and extract, save with tracker.importing) into a fresh SQLite database per size,
and OpenCC's t2s conversion of the same text is timed alone in the same run, best of three
rounds. Printed per size (1x, 4x, 16x the documents): seconds for OpenCC and for the whole
import, their ratio (target: within 3x) and µs per character, which stays flat when the
import is linear in the text. Run: `make bench` or
`TESTING=1 .venv/bin/python bench/import_bench.py [document counts…]`.
"""

import hashlib
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = Path(tempfile.mkdtemp()) / "bench.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import warnings  # noqa: E402

import django  # noqa: E402

# No collectstatic here: the benches never serve static files.
warnings.filterwarnings("ignore", message="No directory at")

django.setup()

import opencc  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from tracker.importing import DocumentResult, save_document  # noqa: E402
from tracker.pipeline import ParsedDocument  # noqa: E402
from tracker.pipeline.clean import clean  # noqa: E402
from tracker.pipeline.extract import build_outline  # noqa: E402
from tracker.pipeline.read import decode, load  # noqa: E402

TODAY = date(2026, 11, 22)
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
PLACES = ["州", "县", "市", "区", "乡镇", "街道", "社区", "村"]


def perturb(text: str, rng: random.Random, n: int) -> str:
    """A different document of the same shape: places, numbers and key tasks reordered."""
    lines = text.split("\n")
    # Swap two long paragraphs (key tasks) so structure changes, not only the words.
    long_lines = [i for i, line in enumerate(lines) if len(line) > 200]
    if len(long_lines) >= 2:
        a, b = rng.sample(long_lines, 2)
        lines[a], lines[b] = lines[b], lines[a]
    text = "\n".join(lines)
    for place in rng.sample(PLACES, 3):
        text = text.replace(place, rng.choice(PLACES), 3)
    return text.replace("民政", f"民政{n % 97}", 1)


UNITS = ["市民政局", "市财政局", "市医保局", "市卫生健康委", "市发展改革委", "市商务局"]
COLLECTIVE = ["各县（市、区）人民政府", "市级各有关部门", "各有关单位"]
LIMITS = ["2024年6月底前", "年底前", "第三季度", "长期坚持", "2024年9月底", "上半年"]
TASKS = [
    "完善最低生活保障制度，健全低保对象认定办法，将符合条件的低收入家庭纳入保障范围",
    "推进低收入人口动态监测，加强部门间数据比对共享，及时预警困难群众",
    "加强急难临时救助，全面推行“先行救助”，赋予乡镇（街道）临时救助审批权限",
    "发展老年助餐服务，合理布局社区老年食堂和助餐点，推动助餐服务向农村延伸",
    "推进医养康养相结合，支持养老机构与周边医疗卫生机构签约合作",
    "开展养老机构安全隐患排查整治，全面排查消防、食品、建筑等领域安全隐患",
]
TASKS_PER_DOCUMENT = 40


def _task(rng: random.Random, n: int, i: int) -> tuple[str, str, str, str]:
    lead, co = rng.sample(UNITS, 2)
    return (
        f"{rng.choice(TASKS)}，第{n}号方案第{i}项",
        lead,
        f"{co}、{rng.choice(COLLECTIVE)}",
        rng.choice(LIMITS),
    )


def division_plan(rng: random.Random, n: int, labelled: bool) -> str:
    """A 任务分工方案: numbered items with a trailing unit note, or labelled lines."""
    lines = [f"临江市2024年民生保障重点任务分工方案（{n}）", "现将重点任务分解如下："]
    for i in range(1, TASKS_PER_DOCUMENT + 1):
        if i % 10 == 1:
            lines.append(f"{'一二三四五'[i // 10]}、加强民生保障第{i // 10 + 1}部分")
        task, lead, co, limit = _task(rng, n, i)
        if labelled:
            lines += [f"{i}.{task}。", f"牵头单位：{lead}", f"配合单位：{co}", f"完成时限：{limit}"]
        else:
            lines.append(f"{i}.{task}。（{lead}牵头，{co}配合，{limit}完成）")
    return "\n".join(lines)


def wrapped(text: str, width: int = 27) -> str:
    """A PDF copy: every paragraph hard-wrapped at `width` characters."""
    return "\n".join(
        line[i : i + width] for line in text.split("\n") for i in range(0, len(line), width)
    )


def table_rows(rng: random.Random, n: int) -> list[list[str]]:
    rows = [["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]]
    for i in range(1, TASKS_PER_DOCUMENT + 1):
        task, lead, co, limit = _task(rng, n, i)
        # every fifth lead cell holds two units run together, as tables often do
        rows.append([str(i), task + "。", lead + ("市财政局" if i % 5 == 0 else ""), co, limit])
    return rows


def as_docx(title: str, rows: list[list[str]]) -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph(title)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def as_xlsx(title: str, rows: list[list[str]]) -> bytes:
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([title])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CORPUS = sorted(
    p for p in (ROOT / "tests" / "corpus").iterdir() if p.suffix in {".txt", ".docx", ".xlsx"}
)


def corpus_copy(path: Path, rng: random.Random, n: int) -> bytes:
    """A corpus document perturbed like the seeds, in its own encoding and line ends."""
    raw = path.read_bytes()
    if path.suffix != ".txt":
        return raw  # the Word and Excel tables, as they are
    text = perturb(decode(raw, path.name), rng, n)
    if b"\r\n" in raw:
        text = text.replace("\n", "\r\n")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return text.encode("gb18030")
    return text.encode()


def generate(count: int, folder: Path) -> list[tuple[str, Path]]:
    """`count` documents written to `folder`, as (source, path). One random stream: the first
    n documents are the same whatever the count, so the sizes are prefixes of one another."""
    rng = random.Random(2026)
    seeds = [p.read_bytes() for p in SEEDS]
    docs = []
    for n in range(count):
        kind = n % 8
        title = f"临江市2024年重点任务分解表（{n}）"
        suffix, data = ".txt", b""
        if kind == 0:
            raw = seeds[n // 8 % len(seeds)]
            text = perturb(raw.decode("utf-8"), rng, n)
            # Every other seed copy arrives in GB18030, as office files often do.
            data = text.encode("gb18030" if n // 8 % 2 else "utf-8")
        elif kind in (1, 2):
            path = CORPUS[(n // 8 * 2 + kind - 1) % len(CORPUS)]
            suffix, data = path.suffix, corpus_copy(path, rng, n)
        elif kind in (3, 4):
            text = division_plan(rng, n, labelled=kind == 4)
            if n % 16 == 3:
                text = wrapped(text)
            data = text.encode()
        elif kind == 5:
            rows = table_rows(rng, n)
            data = "\n".join([title, *("\t".join(row) for row in rows)]).encode()
        elif kind == 6:
            suffix, data = ".docx", as_docx(title, table_rows(rng, n))
        else:
            suffix, data = ".xlsx", as_xlsx(title, table_rows(rng, n))
        path = folder / f"{n:04d}{suffix}"
        path.write_bytes(data)
        docs.append((f"bench/generated/{path.name}", path))
    return docs


STAGES = ("read", "clean", "structure", "save")


def run(docs):
    """Import every document as tracker.importing.import_file does (load, then the steps of
    tracker.pipeline.parse_document, then save_document), timing each step; then time
    OpenCC's t2s alone on the same decoded text."""
    timings = dict.fromkeys(STAGES, 0.0)
    converter = opencc.OpenCC("t2s")
    opencc_alone = 0.0
    chars = 0
    measures = 0
    for source, path in docs:
        t0 = time.perf_counter()
        raw = load(path, max_bytes=settings.IMPORT_MAX_BYTES)
        text = decode(raw, source)
        t1 = time.perf_counter()
        cleaned = clean(text)
        t2 = time.perf_counter()
        outline = build_outline(cleaned.text, today=TODAY)
        parsed = ParsedDocument(
            source,
            hashlib.sha256(raw).hexdigest(),
            text,
            cleaned.text,
            cleaned.repairs + outline.repairs,
            outline,
        )
        if not parsed.measure_count():
            raise SystemExit(f"{source}: no measures; every benchmark document must have some")
        t3 = time.perf_counter()
        result = DocumentResult(source=source)
        save_document(parsed, result)
        t4 = time.perf_counter()
        converter.convert(text)
        t5 = time.perf_counter()
        timings["read"] += t1 - t0
        timings["clean"] += t2 - t1
        timings["structure"] += t3 - t2
        timings["save"] += t4 - t3
        opencc_alone += t5 - t4
        chars += len(text)
        measures += result.created
    return timings, opencc_alone, chars, measures


def fresh_database():
    connection.close()  # a new database file, not the old one still open
    DB.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)


def best_of(rounds, docs):
    """The fastest of `rounds` imports into fresh databases, and OpenCC's fastest: the machine
    may be shared, and a burst of other work is no cost of the import (or of OpenCC)."""
    results = []
    for _ in range(rounds):
        fresh_database()
        results.append(run(docs))
    timings, _, chars, measures = min(results, key=lambda r: sum(r[0].values()))
    return timings, min(r[1] for r in results), chars, measures


def main():
    base, rounds = 30, 3
    sizes = [int(a) for a in sys.argv[1:]] or [base, 4 * base, 16 * base]
    docs = generate(max(sizes), Path(tempfile.mkdtemp()))
    fresh_database()
    run(docs[:24])  # warm up: OpenCC's dictionaries, regexes, Django's query compilation
    print(f"import benchmark: best of {rounds}, each into a fresh SQLite database ({DB})")
    print(
        f"{'docs':>5} {'chars':>9} {'measures':>8} | {'OpenCC':>7} {'whole':>7} {'ratio':>6} | "
        f"µs/char: {'OpenCC':>6} {'whole':>6} = " + " + ".join(f"{stage:>9}" for stage in STAGES)
    )
    per_char = []
    for size in sizes:
        timings, opencc_alone, chars, measures = best_of(rounds, docs[:size])
        whole = sum(timings.values())
        per_char.append(whole / chars * 1e6)
        print(
            f"{size:>5} {chars:>9} {measures:>8} | {opencc_alone:>6.2f}s {whole:>6.2f}s "
            f"{whole / opencc_alone:>5.2f}x | {'':>8} {opencc_alone / chars * 1e6:>6.2f} "
            f"{whole / chars * 1e6:>6.2f} = "
            + " + ".join(f"{timings[stage] / chars * 1e6:>9.2f}" for stage in STAGES)
        )
    print(
        f"linearity: whole µs/char at {sizes[-1]} documents is "
        f"{per_char[-1] / per_char[0]:.2f}x that at {sizes[0]}"
    )


if __name__ == "__main__":
    main()
