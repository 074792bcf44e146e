"""Pages rendered once per state of the data, and never served after it changed.

What the ledger pages show is a function of the database, the day, who is looking and the
address asked for. The database keeps one version number (`DataVersion`) that triggers raise
in the same transaction as every write to a table those pages read (installed by migration
0011: every table of this app and of django.contrib.auth). So a fragment stored under
(version, day, user, address) is exactly what rendering it again would give, for as long as
that version is the committed one.

Why it never goes stale:
- The triggers are in the database, so every write counts: the ORM, bulk updates, the admin,
  raw SQL, the importer, a `dbshell`. tests/test_freshness.py checks that every table of the
  watched apps has them, so a new model without them fails the suite.
- The version becomes visible only when the writing transaction commits, together with its
  rows (PostgreSQL bumps it in a deferred trigger at commit, so it is also the last lock a
  writer takes and adds no deadlock).
- A page reads the version first and renders after, each outside any transaction, so what it
  stores under version V was read at V or later. A write committed meanwhile raises the version,
  and the next request renders afresh.
- Nothing is stored from inside a transaction (it could see its own uncommitted writes, or
  roll back), nor for a request that is not a GET.
- The version row carries a random epoch: a database that is recreated or flushed counts
  again from a new epoch and can never meet an old entry.

CSRF tokens are never stored: a fragment is rendered with a placeholder in their place, and each
response gets its own masked token.
"""

import hashlib
import secrets

from django.conf import settings
from django.core.cache import caches
from django.db import connection

TABLE = "tracker_dataversion"
WATCHED_APPS = ("tracker", "auth")
FUNCTION = "tracker_bump_data_version"

# Stands for the CSRF token in a stored fragment; random per process, so page content cannot
# spell it.
CSRF_PLACEHOLDER = "csrf" + secrets.token_hex(16)


def current_version():
    """The committed data version, or None when a stored page cannot be trusted here."""
    if not settings.PAGE_CACHE or connection.in_atomic_block or not connection.get_autocommit():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT epoch, n FROM {TABLE} WHERE id = 1")
        row = cursor.fetchone()
        if row is None:
            # Flushed (tests) or never created: start a new epoch; this request renders afresh.
            cursor.execute(
                f"INSERT INTO {TABLE} (id, epoch, n) VALUES (1, %s, 0) ON CONFLICT DO NOTHING",
                [secrets.token_hex(8)],
            )
            return None
    return f"{row[0]}.{row[1]}"


def fragment(name, request, today, vary, render):
    """The HTML of `render()`, stored for this data version, day, user and `vary`.

    `render(placeholder)` draws the fragment with `placeholder` for the CSRF token, which the
    caller replaces with its own token."""
    if request.method not in ("GET", "HEAD"):
        return None
    # Read once a request: every part of a page is then stored under the version read first.
    if not hasattr(request, "data_version"):
        request.data_version = current_version()
    version = request.data_version
    if version is None:
        return None
    key = repr((name, version, today.isoformat(), request.user.pk, *vary))
    key = "fresh:" + hashlib.blake2b(key.encode(), digest_size=20).hexdigest()
    cache = caches[settings.PAGE_CACHE_ALIAS]
    html = cache.get(key)
    if html is None:
        html = render(CSRF_PLACEHOLDER)
        cache.set(key, html, None)
    return html


# The triggers (installed by migrations) -------------------------------------------------


def watched_tables(apps):
    """Every table of the watched apps but the version's own."""
    tables = set()
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if not model._meta.proxy and model._meta.managed:
                tables.add(model._meta.db_table)
    tables.discard(TABLE)
    return sorted(tables)


def trigger_names(table):
    return [f"dv_{table}_{op}"[:63] for op in ("ins", "upd", "del", "trunc")]


def install(schema_editor, tables):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "postgresql":
        # Once per transaction, at commit: the flag lives until the transaction ends.
        run(
            f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
            BEGIN
              IF current_setting('tracker.data_version_bumped', true) IS DISTINCT FROM 'on' THEN
                PERFORM set_config('tracker.data_version_bumped', 'on', true);
                UPDATE {TABLE} SET n = n + 1 WHERE id = 1;
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql"""
        )
    for table in tables:
        names = trigger_names(table)
        if vendor == "postgresql":
            run(
                f'CREATE CONSTRAINT TRIGGER "{names[0]}" AFTER INSERT OR UPDATE OR DELETE'
                f' ON "{table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW'
                f" EXECUTE FUNCTION {FUNCTION}()"
            )
            run(
                f'CREATE TRIGGER "{names[3]}" AFTER TRUNCATE ON "{table}"'
                f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        elif vendor == "sqlite":
            for name, op in zip(names, ("INSERT", "UPDATE", "DELETE"), strict=False):
                run(
                    f'CREATE TRIGGER "{name}" AFTER {op} ON "{table}"'
                    f" BEGIN UPDATE {TABLE} SET n = n + 1 WHERE id = 1; END"
                )
        else:
            raise NotImplementedError(f"no data-version triggers for {vendor}")


def uninstall(schema_editor, tables):
    vendor = schema_editor.connection.vendor
    for table in tables:
        names = trigger_names(table)
        if vendor == "postgresql":
            for name in (names[0], names[3]):
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
        else:
            for name in names[:3]:
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    if vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


def installed_triggers(connection):
    """(table, trigger name) pairs of the data-version triggers the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c"
                " ON c.oid = t.tgrelid WHERE t.tgname LIKE 'dv\\_%%'"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        return {(table, name) for table, name in cursor.fetchall() if name.startswith("dv_")}
