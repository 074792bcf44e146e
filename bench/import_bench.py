"""Import benchmark: 1,000 generated documents (~10 MB) into a fresh SQLite database.

The mix: the two seed essays (perturbed, a quarter in GB18030) and the documents a 督查
office mostly receives: task-division plans with unit parentheticals and with labelled
lines (one of them hard-wrapped at 27 characters), a task table pasted as tab-separated
text, and the same table as .docx and as .xlsx.

Prints characters per second for each stage and the ratio of the whole import to
OpenCC's t2s conversion alone on the same text (target: within 3x), at three sizes so
that linearity shows. Run: `make bench` or `.venv/bin/python bench/import_bench.py`.
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
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from tracker.importing import DocumentResult, save_document  # noqa: E402
from tracker.pipeline import ParsedDocument  # noqa: E402
from tracker.pipeline.clean import clean  # noqa: E402
from tracker.pipeline.extract import build_outline  # noqa: E402
from tracker.pipeline.read import decode  # noqa: E402

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


def generate(count: int) -> list[tuple[str, bytes]]:
    rng = random.Random(2026)
    seeds = [p.read_bytes() for p in SEEDS]
    docs = []
    for n in range(count):
        kind = n % 8
        title = f"临江市2024年重点任务分解表（{n}）"
        if kind < 3:
            raw = seeds[n % len(seeds)]
            text = perturb(raw.decode("utf-8"), rng, n)
            # Every fourth document arrives in GB18030, as office files often do.
            encoding = "gb18030" if n % 4 == 3 else "utf-8"
            docs.append((f"bench/generated/{n:04d}.txt", text.encode(encoding)))
        elif kind in (3, 4):
            text = division_plan(rng, n, labelled=kind == 4)
            if n % 16 == 3:
                text = wrapped(text)
            docs.append((f"bench/generated/{n:04d}.txt", text.encode()))
        elif kind == 5:
            rows = table_rows(rng, n)
            text = "\n".join([title, *("\t".join(row) for row in rows)])
            docs.append((f"bench/generated/{n:04d}.txt", text.encode()))
        elif kind == 6:
            docs.append((f"bench/generated/{n:04d}.docx", as_docx(title, table_rows(rng, n))))
        else:
            docs.append((f"bench/generated/{n:04d}.xlsx", as_xlsx(title, table_rows(rng, n))))
    return docs


def run(docs):
    timings = dict.fromkeys(["read", "clean", "structure", "save"], 0.0)
    converter = opencc.OpenCC("t2s")
    opencc_alone = 0.0
    chars = 0
    measures = 0
    for source, raw in docs:
        t0 = time.perf_counter()
        text = decode(raw, source)
        t1 = time.perf_counter()
        cleaned = clean(text)
        t2 = time.perf_counter()
        outline = build_outline(cleaned.text, today=TODAY)
        t3 = time.perf_counter()
        parsed = ParsedDocument(
            source,
            hashlib.sha256(raw).hexdigest(),
            text,
            cleaned.text,
            cleaned.repairs + outline.repairs,
            outline,
        )
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


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [250, 500, 1000]
    call_command("migrate", verbosity=0)
    run(generate(20))  # warm up: OpenCC's dictionaries, regexes, Django's query compilation
    print(f"import benchmark: fresh SQLite database at {DB}")
    print(
        f"{'docs':>5} {'MB':>6} {'measures':>8} | chars/s: {'read':>10} {'clean':>10} "
        f"{'structure':>10} {'save':>10} {'whole':>10} {'opencc':>10} | whole/opencc"
    )
    for size in sizes:
        connection.close()  # a fresh database file for every size, not the old one still open
        DB.unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
        docs = generate(size)
        megabytes = sum(len(raw) for _, raw in docs) / 1e6
        timings, opencc_alone, chars, measures = run(docs)
        whole = sum(timings.values())
        rate = {k: chars / v for k, v in timings.items()}
        print(
            f"{size:>5} {megabytes:>6.1f} {measures:>8} | {'':>8}"
            f"{rate['read']:>10.0f} {rate['clean']:>10.0f} {rate['structure']:>10.0f} "
            f"{rate['save']:>10.0f} {chars / whole:>10.0f} {chars / opencc_alone:>10.0f} | "
            f"{whole / opencc_alone:.2f}x  ({whole:.1f} s vs {opencc_alone:.1f} s, "
            f"{whole / chars * 1e6:.2f} µs/char)"
        )


if __name__ == "__main__":
    main()
