"""Web benchmark: 10,000 measures, 50 users, server time per request.

Prints median and p95 for the ledger page (100 rows), the overdue dashboard, an inline
status change, and, measured in the same run as the baseline, the Django admin changelist
of the same 100 measures; then the ledger/admin ratio and the size of the htmx row response
against the full page. Targets: ledger no slower than the admin changelist; inline change
p95 <= 15 ms; the row response >= 20x smaller than the full page.
Run: `make bench` or `.venv/bin/python bench/web_bench.py [rounds]`.
"""

import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'web.sqlite3'}"
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("TESTING", "1")
os.environ["ALLOWED_HOSTS"] = "testserver"  # the in-process test client
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import warnings  # noqa: E402

import django  # noqa: E402

# No collectstatic here: the benches never serve static files.
warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from tracker.models import Document, Measure, ProgressUpdate, Section, Unit, User  # noqa: E402

MEASURES = 10_000
USERS = 50
TODAY = date(2026, 11, 22)


def build():
    call_command("migrate", verbosity=0)
    groups = {name: Group.objects.create(name=name) for name in User.ROLES}
    units = [Unit.objects.create(name=f"单位{i:02d}", position=i) for i in range(10)]
    users = []
    for i in range(USERS):
        user = User.objects.create_user(
            f"user{i:02d}", password="x", name=f"用户{i:02d}", unit=units[i % 10]
        )
        user.groups.add(groups[User.SUPERVISOR if i == 0 else User.STAFF])
        users.append(user)
    text = "一是完善居家社区养老服务网络。" * 3
    documents = [
        Document.objects.create(
            source=f"bench/{i}.txt",
            sha256="0" * 64,
            title=f"工作方案{i}",
            raw_text=text,
            clean_text=text,
        )
        for i in range(20)
    ]
    sections = [
        Section.objects.create(
            document=d, kind="heading", title="重点任务", path="重点任务", position=1
        )
        for d in documents
    ]
    measures = Measure.objects.bulk_create(
        Measure(
            document=documents[i % 20],
            section=sections[i % 20],
            position=i,
            fingerprint=f"{i}",
            title=f"完善居家社区养老服务网络{i}",
            text=text,
            source_end=15,
            unit=units[i % 10],
            owner=users[i % USERS],
            deadline=TODAY + timedelta(days=(i % 120) - 60),
            status=Measure.Status.IN_PROGRESS if i % 3 else Measure.Status.NOT_STARTED,
        )
        for i in range(MEASURES)
    )
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(
            measure=m, author=m.owner, progress="已制定工作方案，正在推进落实。", percent=40
        )
        for m in measures[::2]
    )
    admin = users[0]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return admin, measures


def timed(call, rounds):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), response.status_code
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], response


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    supervisor, measures = build()
    client = Client()
    client.force_login(supervisor)
    print(f"web benchmark: {MEASURES} measures, {USERS} users, {rounds} rounds each (SQLite)")

    results = {}
    results["ledger /measures/ (100 rows)"] = timed(lambda: client.get("/measures/"), rounds)
    results["admin changelist (100 rows)"] = timed(
        lambda: client.get("/admin/tracker/measure/"), rounds
    )
    results["dashboard /overdue/"] = timed(lambda: client.get("/overdue/"), rounds)

    target = measures[1]
    statuses = itertools.cycle([Measure.Status.SUSPENDED, Measure.Status.IN_PROGRESS])

    def inline_change():
        target.refresh_from_db(fields=["version"])
        return client.post(
            f"/measures/{target.pk}/edit/",
            {"status": next(statuses), "version": target.version},
            HTTP_HX_REQUEST="true",
        )

    results["inline status change (htmx)"] = timed(inline_change, rounds)

    for name, (median, p95, _) in results.items():
        print(f"  {name:<32} median {median:7.2f} ms   p95 {p95:7.2f} ms")
    ledger = results["ledger /measures/ (100 rows)"]
    admin = results["admin changelist (100 rows)"]
    print(f"  ledger / admin changelist (median): {ledger[0] / admin[0]:.2f}x  (target <= 1.00)")
    print(
        f"  inline change p95: {results['inline status change (htmx)'][1]:.2f} ms  (target <= 15)"
    )
    row_bytes = len(results["inline status change (htmx)"][2].content)
    page_bytes = len(ledger[2].content)
    print(
        f"  htmx row response {row_bytes} B vs full page {page_bytes} B: "
        f"{page_bytes / row_bytes:.0f}x smaller  (target >= 20)"
    )


if __name__ == "__main__":
    main()
