"""Query plans of the main pages on a generated ledger, on whichever database DATABASE_URL names.

Builds web_bench's ledger (100,000 measures by default) in a throwaway test database
(Django's test database: an in-memory one for SQLite, <name>_explain on PostgreSQL, dropped at
the end), requests each page with the test client, records every query it sends that reads
tracker_measure, and prints EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL) of each: the
ledger with the common filters (status + deadline, unit + status, owner + status, the light
filter with the urgency order), the overdue dashboard (its aggregates, with_light,
report_missing, overdue lists) and /my/. Ends with the full scans of tracker_measure found.

PostgreSQL plans are taken after ANALYZE (as autovacuum leaves a table); SQLite's without
(nothing runs ANALYZE on the app's database), unless --analyze.

Run: `.venv/bin/python bench/explain.py [--size N] [--analyze] > bench/EXPLAIN-sqlite.txt`
and `DATABASE_URL=postgres://… .venv/bin/python bench/explain.py > bench/EXPLAIN-postgresql.txt`.
"""

import argparse
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("TESTING", "1")
os.environ["ALLOWED_HOSTS"] = "testserver"  # the in-process test client
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import warnings  # noqa: E402

import django  # noqa: E402

# No collectstatic here: the benches never serve static files.
warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

# A SQLite plan step reading a whole table: SCAN t [AS alias] [USING … INDEX i]. A covering
# or ordering index still reads every row, so those count too.
SQLITE_SCAN = re.compile(r"^SCAN (\S+)")
POSTGRES_SCAN = re.compile(r"Seq Scan on tracker_measure\b")


@contextmanager
def recorded_queries():
    """Every (sql, params) sent while inside, as the database received them."""
    queries = []

    def record(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield queries


def plan(sql, params):
    """The plan's lines, the same prefix QuerySet.explain() uses."""
    prefix = connection.ops.explain_query_prefix()
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    if connection.vendor != "sqlite":
        return [row[0] for row in rows]
    # SQLite gives (id, parent, notused, detail): indent each step under its parent.
    depth, lines = {0: -1}, []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def measure_scans(lines):
    """Plan lines that read all of tracker_measure (no index condition narrows them)."""
    if connection.vendor == "postgresql":
        return [line.strip() for line in lines if POSTGRES_SCAN.search(line)]
    return [
        line.strip()
        for line in lines
        if (match := SQLITE_SCAN.match(line.strip())) and match.group(1) == "tracker_measure"
    ]


def short(sql, limit=900):
    """The query without its long list of selected columns, cut at `limit` characters."""
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"(%s, ){3,}%s", "%s, …, %s", sql)  # IN lists of prefetches
    if sql.startswith('SELECT "tracker_measure"."id"') and ' FROM "tracker_measure"' in sql:
        sql = "SELECT … " + sql[sql.index(' FROM "tracker_measure"') + 1 :]
    return sql if len(sql) <= limit else sql[:limit] + " …"


def explain_page(client, title, url, params=None):
    # The queries a page makes when it is drawn, not when it is served as stored.
    with override_settings(PAGE_CACHE=False), recorded_queries() as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    print(f"\n{'=' * 100}\n{title}\nGET {url}{'?' + urlencode(params) if params else ''}")
    scans, seen = [], set()
    for sql, query_params in queries:
        if "tracker_measure" not in sql or sql in seen:
            continue
        seen.add(sql)
        lines = plan(sql, query_params)
        print(f"\n-- {short(sql)}")
        if query_params:
            shown = ", ".join(repr(value) for value in list(query_params)[:12])
            print(f"-- params: {shown}{', …' if len(query_params) > 12 else ''}")
        print("\n".join(lines))
        scans += [(title, short(sql, 160), line) for line in measure_scans(lines)]
    return scans


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="measures (default 100000)")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE on SQLite too")
    args = parser.parse_args()

    setup_test_environment()
    if connection.vendor != "sqlite":
        # Not test_<name>: a test run going on at the same time uses that one.
        connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_explain"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        import web_bench  # after the test database exists: it builds there

        ledger = web_bench.Ledger()
        ledger.grow(args.size)
        analyzed = connection.vendor == "postgresql" or args.analyze
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                version = connection.Database.sqlite_version
            else:
                cursor.execute("SHOW server_version")
                version = cursor.fetchone()[0]
            if analyzed:
                cursor.execute("ANALYZE")
        print(
            f"EXPLAIN of the main pages: {connection.vendor} {version}, {args.size} measures "
            f"({'after' if analyzed else 'without'} ANALYZE), generated by bench/web_bench.py"
        )
        report(ledger)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def report(ledger):
    from tracker.models import Measure

    client = Client()
    client.force_login(ledger.supervisor)
    unit = ledger.units[3].pk
    owner = ledger.users[7].pk
    in_progress = Measure.Status.IN_PROGRESS
    pages = [
        ("ledger, no filter (default order)", "/measures/", {}),
        (
            "ledger, status + deadline (已逾期)",
            "/measures/",
            {"status": in_progress, "due": "overdue"},
        ),
        (
            "ledger, status + deadline (7日内到期)",
            "/measures/",
            {"status": in_progress, "due": "soon"},
        ),
        (
            "ledger, status sorted by deadline",
            "/measures/",
            {"status": in_progress, "sort": "deadline"},
        ),
        ("ledger, unit + status", "/measures/", {"unit": unit, "status": in_progress}),
        ("ledger, owner + status", "/measures/", {"owner": owner, "status": in_progress}),
        (
            "ledger, red lights by urgency (with_light + by_urgency)",
            "/measures/",
            {"light": "red", "sort": "light"},
        ),
        ("overdue dashboard", "/overdue/", {}),
        ("my measures", "/my/", {}),
    ]
    scans = []
    for title, url, params in pages:
        scans += explain_page(client, title, url, params)
    print(f"\n{'=' * 100}\nFull scans of tracker_measure ({len(scans)}):")
    for title, sql, line in scans:
        print(f"  [{title}] {line}\n      in: {sql}")


if __name__ == "__main__":
    main()
