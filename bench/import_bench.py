"""Import benchmark: 1,000 generated documents (~10 MB) into a fresh SQLite database.

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


def generate(count: int) -> list[tuple[str, bytes]]:
    rng = random.Random(2026)
    seeds = [p.read_bytes() for p in SEEDS]
    docs = []
    for n in range(count):
        raw = seeds[n % len(seeds)]
        text = perturb(raw.decode("utf-8"), rng, n)
        # Every fourth document arrives in GB18030, as office files often do.
        encoding = "gb18030" if n % 4 == 3 else "utf-8"
        docs.append((f"bench/generated/{n:04d}.txt", text.encode(encoding)))
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
            source, hashlib.sha256(raw).hexdigest(), text, cleaned.text, cleaned.repairs, outline
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
