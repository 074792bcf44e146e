"""Web benchmark: 10,000 and 100,000 measures, 50 users, server time per request.

For each size prints median and p95 of the overdue dashboard, the ledger page (100 rows),
a measure's page and /my/, each both as stored for the current data (tracker/freshness.py: a
second look) and drawn afresh (the first look after a write), a filtered ledger (unit +
status), the monthly 通报, the Excel export of 10,000 rows
(time, and peak memory: traced Python allocations in this process, and the maximum RSS of a
fresh process doing only the export) and an inline status change; and, measured in the same
run as the baseline, the Django admin changelist of the same 100 measures. Then the
ledger/admin ratio, the size of the htmx row response against the full page, and a table of
both sizes with the ratio 100k/10k. Targets: ledger no slower than the admin changelist;
inline change p95 <= 15 ms; the row response >= 20x smaller than the full page; /overdue/
at 100k no more than 3x its time at 10k; the export under 200 MB.

The 100,000 run adds 90,000 measures to the 10,000 ones with bulk_create (seconds, not
minutes), so both sizes share users, units and documents.

Run: `make bench` or `.venv/bin/python bench/web_bench.py [rounds] [--sizes 10000,100000]`;
a quick run: `.venv/bin/python bench/web_bench.py 10 --sizes 10000`.
Importable (bench/explain.py): then it uses the caller's database and Django setup.
"""

import argparse
import io
import itertools
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    # Run as a script: a throwaway SQLite file (or the one a parent run hands its export
    # child), never the developer's database.
    os.environ["DATABASE_URL"] = os.environ.get("WEB_BENCH_DATABASE_URL") or (
        f"sqlite:///{Path(tempfile.mkdtemp()) / 'web.sqlite3'}"
    )
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("TESTING", "1")
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the in-process test client
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

    import warnings

    # No collectstatic here: the benches never serve static files.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from tracker.models import (  # noqa: E402
    Document,
    Measure,
    ProgressUpdate,
    Section,
    Topic,
    Unit,
    User,
)
from tracker.spreadsheets import HEADER_ROW  # noqa: E402

SIZES = (10_000, 100_000)
USERS = 50
UNITS = 10
TOPICS = 8
EXPORT_ROWS = 10_000
EXPORT_ROUNDS = 3
BATCH = 5_000
# Deadlines around the app's own today, 30% of them past (as in the Redmine comparison), so a
# run next month measures the same mix.
TODAY = timezone.localdate()
OVERDUE_DAYS = 36  # of every 120
TEXT = "一是完善居家社区养老服务网络。" * 3


class Ledger:
    """The generated data: people, units, documents, and how many measures so far."""

    def __init__(self):
        call_command("migrate", verbosity=0)
        groups = {name: Group.objects.create(name=name) for name in User.ROLES}
        self.units = [Unit.objects.create(name=f"单位{i:02d}", position=i) for i in range(UNITS)]
        self.users = []
        for i in range(USERS):
            user = User.objects.create_user(
                f"user{i:02d}", password="x", name=f"用户{i:02d}", unit=self.units[i % UNITS]
            )
            user.groups.add(groups[User.SUPERVISOR if i == 0 else User.STAFF])
            self.users.append(user)
        self.documents = [
            Document.objects.create(
                source=f"bench/{i}.txt",
                sha256="0" * 64,
                title=f"工作方案{i}",
                raw_text=TEXT,
                clean_text=TEXT,
            )
            for i in range(20)
        ]
        self.sections = [
            Section.objects.create(
                document=d, kind="heading", title="重点任务", path="重点任务", position=1
            )
            for d in self.documents
        ]
        self.topics = [Topic.objects.create(name=f"领域{i}") for i in range(TOPICS)]
        self.measures = []
        admin = self.users[0]
        admin.is_staff = admin.is_superuser = True
        admin.save()
        self.supervisor = admin

    def grow(self, size):
        """Add measures up to `size`, in batches so memory stays flat at 100,000."""
        for start in range(len(self.measures), size, BATCH):
            self.add(range(start, min(start + BATCH, size)))
        if connection.vendor == "sqlite":
            # A live database is not read through a 60 MB write-ahead log left by a bulk load;
            # the log also made the readers' memory grow with it.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def add(self, numbers):
        measures = Measure.objects.bulk_create(
            Measure(
                document=self.documents[i % 20],
                section=self.sections[i % 20],
                position=i,
                fingerprint=f"{i}",
                title=f"完善居家社区养老服务网络{i}",
                text=TEXT,
                source_end=15,
                unit=self.units[i % UNITS],
                owner=self.users[i % USERS],
                deadline=TODAY + timedelta(days=(i % 120) - OVERDUE_DAYS),
                status=Measure.Status.IN_PROGRESS if i % 3 else Measure.Status.NOT_STARTED,
            )
            for i in numbers
        )
        ProgressUpdate.objects.bulk_create(
            ProgressUpdate(
                measure=m, author=m.owner, progress="已制定工作方案，正在推进落实。", percent=40
            )
            for m in measures[::2]
        )
        # Every fourth measure has a 配合单位, as real ledgers do: the export prefetches them.
        co_units = Measure.co_units.through
        co_units.objects.bulk_create(
            co_units(measure_id=m.pk, unit_id=self.units[(m.position + 1) % UNITS].pk)
            for m in measures[::4]
        )
        # Every measure has a 领域 and every fifth a second one, as imported ledgers do: the
        # dashboard counts overdue measures by 领域.
        topics = Measure.topics.through
        topics.objects.bulk_create(
            topics(measure_id=m.pk, topic_id=self.topics[(m.position + k) % TOPICS].pk)
            for m in measures
            for k in range(1 if m.position % 5 else 2)
        )
        # Only the ids are kept: 100,000 model instances would distort the memory figures.
        self.measures.extend(m.pk for m in measures)


def build(size=SIZES[0]):
    """A fresh ledger of `size` measures; returns (supervisor, measure ids)."""
    ledger = Ledger()
    ledger.grow(size)
    return ledger.supervisor, ledger.measures


def p95(samples):
    return samples[max(0, math.ceil(len(samples) * 0.95) - 1)]


def timed(call, rounds):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), response.status_code
    samples.sort()
    return statistics.median(samples), p95(samples), response


def export_query(ledger, size):
    """Ledger filters that select EXPORT_ROWS measures (all of them at 10,000)."""
    if size <= EXPORT_ROWS:
        return {}
    return {"unit": ledger.units[0].pk}  # one unit leads a tenth of the ledger


def rss_mb():
    """This process's peak resident memory in MB.

    Linux's VmHWM, which starts afresh at exec; ru_maxrss (elsewhere) keeps the parent's
    peak across fork and exec, so a child started by this 150 MB benchmark would report that.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024


def export_in_a_fresh_process(query):
    """[rows, seconds, RSS after setup, before, peak] (MB) of one export in a new process."""
    url = f"sqlite:///{settings.DATABASES['default']['NAME']}"
    child = subprocess.run(
        [sys.executable, __file__, "--export-child", json.dumps(query)],
        env={**os.environ, "WEB_BENCH_DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if child.returncode:
        raise RuntimeError(f"the export child failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def export_child(query):
    setup = rss_mb()
    client = Client()
    client.force_login(User.objects.get(username="user00"))
    # An export of no rows first: imports and the connection are counted before, not in it.
    client.get("/measures/export.xlsx", {"q": "没有这样的事项"})
    before = rss_mb()
    start = time.perf_counter()
    response = client.get("/measures/export.xlsx", query)
    seconds = time.perf_counter() - start
    peak = rss_mb()
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = sum(1 for _ in book.active.iter_rows(min_row=HEADER_ROW + 1))
    print(json.dumps([rows, seconds, setup, before, peak]))


def run(ledger, size, rounds):
    client = Client()
    client.force_login(ledger.supervisor)
    results = {}
    item = f"/measures/{ledger.measures[41]}/"
    # Stored pages (tracker/freshness.py) are what a second look costs; "drawn afresh" is the
    # first look after any write, with nothing stored.
    for name, url in [
        ("dashboard /overdue/", "/overdue/"),
        ("ledger /measures/ (100 rows)", "/measures/"),
        ("one measure /measures/<id>/", item),
        ("my measures /my/", "/my/"),
    ]:
        results[name] = timed(lambda url=url: client.get(url), rounds)
        with override_settings(PAGE_CACHE=False):
            results[name + ", drawn afresh"] = timed(lambda url=url: client.get(url), rounds)
    results["admin changelist (100 rows)"] = timed(
        lambda: client.get("/admin/tracker/measure/"), rounds
    )
    filtered = {"unit": ledger.units[3].pk, "status": Measure.Status.IN_PROGRESS}
    results["ledger ?unit=&status="] = timed(lambda: client.get("/measures/", filtered), rounds)
    results["monthly report /reports/monthly/"] = timed(
        lambda: client.get("/reports/monthly/", {"month": TODAY.strftime("%Y-%m")}), rounds
    )
    query = export_query(ledger, size)
    results[f"Excel export ({EXPORT_ROWS} rows)"] = timed(
        lambda: client.get("/measures/export.xlsx", query), min(rounds, EXPORT_ROUNDS)
    )

    target = Measure.objects.get(pk=ledger.measures[1])
    statuses = itertools.cycle([Measure.Status.SUSPENDED, Measure.Status.IN_PROGRESS])

    def inline_change():
        target.refresh_from_db(fields=["version"])
        return client.post(
            f"/measures/{target.pk}/edit/",
            {"status": next(statuses), "version": target.version},
            HTTP_HX_REQUEST="true",
        )

    results["inline status change (htmx)"] = timed(inline_change, rounds)

    for name, (median, p95_ms, _) in results.items():
        print(f"  {name:<34} median {median:8.2f} ms   p95 {p95_ms:8.2f} ms")
    ledger_page = results["ledger /measures/ (100 rows)"]
    admin = results["admin changelist (100 rows)"]
    print(
        f"  ledger / admin changelist (median): {ledger_page[0] / admin[0]:.2f}x  (target <= 1.00)"
    )
    print(
        f"  inline change p95: {results['inline status change (htmx)'][1]:.2f} ms  (target <= 15)"
    )
    row_bytes = len(results["inline status change (htmx)"][2].content)
    page_bytes = len(ledger_page[2].content)
    print(
        f"  htmx row response {row_bytes} B vs full page {page_bytes} B: "
        f"{page_bytes / row_bytes:.0f}x smaller  (target >= 20)"
    )
    print_export_memory(client, query)
    return results


def print_export_memory(client, query):
    tracemalloc.start()
    response = client.get("/measures/export.xlsx", query)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows, seconds, setup, before, peak = export_in_a_fresh_process(query)
    print(
        f"  export memory: traced Python peak {traced:.1f} MB; a fresh process exporting {rows} "
        f"rows in {seconds:.2f} s: max RSS {setup:.0f} MB after Django setup, {before:.0f} MB "
        f"before the export, {peak:.0f} MB peak (+{peak - before:.0f} MB; target < 200 MB); "
        f"file {len(response.content) / 2**20:.1f} MB"
    )


def size_label(n):
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def print_comparison(by_size):
    sizes = sorted(by_size)
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    label = f"{size_label(large)}/{size_label(small)}"
    head = "".join(f"{size_label(n) + ' median':>13}{size_label(n) + ' p95':>11}" for n in sizes)
    print(f"\nby size (ms)\n  {'':<34}{head}{label:>10}")
    for name in by_size[small]:
        cells = "".join(f"{by_size[n][name][0]:13.2f}{by_size[n][name][1]:11.2f}" for n in sizes)
        ratio = by_size[large][name][0] / by_size[small][name][0]
        print(f"  {name:<34}{cells}{ratio:9.2f}x")
    for overdue in ("dashboard /overdue/", "dashboard /overdue/, drawn afresh"):
        ratio = by_size[large][overdue][0] / by_size[small][overdue][0]
        print(f"  {overdue} {label} (median): {ratio:.2f}x  (target <= 3.00)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rounds", nargs="?", type=int, default=60)
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in SIZES),
        help="comma-separated measure counts, ascending (default: %(default)s)",
    )
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child is not None:
        export_child(json.loads(args.export_child))
        return
    sizes = sorted(int(n) for n in args.sizes.split(","))
    ledger = Ledger()
    by_size = {}
    for size in sizes:
        start = time.perf_counter()
        ledger.grow(size)
        built = time.perf_counter() - start
        print(
            f"\nweb benchmark: {size} measures (generated in {built:.1f} s), {USERS} users, "
            f"{args.rounds} rounds each, export {min(args.rounds, EXPORT_ROUNDS)} (SQLite)"
        )
        by_size[size] = run(ledger, size, args.rounds)
    print_comparison(by_size)


if __name__ == "__main__":
    main()
