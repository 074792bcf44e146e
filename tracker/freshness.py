"""Pages rendered once per state of the data, and never served after it changed.

What the ledger pages show is a function of the database, the day, who is looking and the
address asked for. The database keeps one version (`DataVersion`) that triggers raise in the
same transaction as every write to a table those pages read (every table of this app and of
django.contrib.auth, kept in step by sync() after each migrate). So a fragment stored under
(version, day, user, address) is exactly what rendering it again would give, for as long as
that version is the committed one.

Why it never goes stale:
- The triggers are in the database, so every write counts: the ORM, bulk updates, the admin,
  raw SQL, the importer, a `dbshell`. tests/test_freshness.py checks that every table of the
  watched apps has them, and that a table SQLite rebuilds in a migration gets them back.
- The version becomes visible only when the writing transaction commits, together with its
  rows (PostgreSQL bumps it in a deferred trigger at commit, so for row writes it is the
  last lock a writer takes).
- A request reads the version first (DataVersionMiddleware, before the session and the user
  are loaded) and renders after, each outside any transaction, so what it stores under
  version V was read at V or later. A write committed meanwhile raises the version,
  and the next request renders afresh.
- Nothing is stored from inside a transaction (it could see its own uncommitted writes, or
  roll back), nor for a request that is not a GET.
- Every bump also draws a new random token into the version, so a version never comes
  back: not after a rollback, a flush, or a backup restored under a running server.

CSRF tokens are never stored: a fragment is rendered with a placeholder in their place, and each
response gets its own masked token.
"""

import hashlib
import re
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
    # Inside a transaction (autocommit is off in any atomic block) a read may see its own
    # uncommitted writes.
    if not settings.PAGE_CACHE or not connection.get_autocommit():
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
    # Read by DataVersionMiddleware before anything else of the request, the user included;
    # None for a request that is not a GET, and without the middleware.
    version = getattr(request, "data_version", None)
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


# The triggers -----------------------------------------------------------------------------
# Kept in step with the models after every `migrate` (TrackerConfig.ready connects sync() to
# post_migrate): a new table gets its triggers, and a table SQLite rebuilt for a migration
# (dropping its triggers) gets them back.

# Part of every trigger's name: changing what the triggers do changes it, and sync() replaces
# the old ones.
GENERATION = 2


def watched_tables(apps):
    """Every table of the watched apps but the version's own."""
    tables = set()
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if not model._meta.proxy and model._meta.managed:
                tables.add(model._meta.db_table)
    tables.discard(TABLE)
    return sorted(tables)


def trigger_names(vendor, table):
    ops = ("row", "trunc") if vendor == "postgresql" else ("ins", "upd", "del")
    return [f"dv{GENERATION}_{table}_{op}"[:63] for op in ops]


def sync(connection, apps):
    """Give every watched table its triggers, replacing any other data-version trigger."""
    if TABLE not in connection.introspection.table_names():
        return  # before migration 0011
    tables = watched_tables(apps)
    wanted = {(table, name) for table in tables for name in trigger_names(connection.vendor, table)}
    installed = installed_triggers(connection)
    if installed == wanted:
        return
    uninstall(connection)
    with connection.cursor() as cursor:
        for statement in install_sql(connection, tables):
            cursor.execute(statement)


def install_sql(connection, tables):
    """Each bump also draws a new random token, so a version never comes back: not after a
    rollback, nor after a backup is restored under a running server."""
    if connection.vendor == "sqlite":
        bump = f"UPDATE {TABLE} SET n = n + 1, epoch = lower(hex(randomblob(8))) WHERE id = 1"
        return [
            f'CREATE TRIGGER "{name}" AFTER {op} ON "{table}" BEGIN {bump}; END'
            for table in tables
            for name, op in zip(
                trigger_names("sqlite", table), ("INSERT", "UPDATE", "DELETE"), strict=True
            )
        ]
    if connection.vendor != "postgresql":
        raise NotImplementedError(f"no data-version triggers for {connection.vendor}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    # Named with its schema: a session with another search_path (pg_restore) still finds it.
    table = f'"{schema}".{TABLE}'
    statements = [
        # Once per transaction, at commit (a deferred trigger): the flag lives until the
        # transaction ends, and the version's row is the last lock a writer takes.
        f"""CREATE OR REPLACE FUNCTION "{schema}".{FUNCTION}() RETURNS trigger AS $$
        BEGIN
          IF current_setting('tracker.data_version_bumped', true) IS DISTINCT FROM 'on' THEN
            PERFORM set_config('tracker.data_version_bumped', 'on', true);
            UPDATE {table} SET n = n + 1, epoch = md5(random()::text) WHERE id = 1;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql"""
    ]
    for watched in tables:
        row, trunc = trigger_names("postgresql", watched)
        statements += [
            f'CREATE CONSTRAINT TRIGGER "{row}" AFTER INSERT OR UPDATE OR DELETE ON "{watched}"'
            f' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".{FUNCTION}()',
            f'CREATE TRIGGER "{trunc}" AFTER TRUNCATE ON "{watched}"'
            f' FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".{FUNCTION}()',
        ]
    return statements


def uninstall(connection):
    with connection.cursor() as cursor:
        for table, name in installed_triggers(connection):
            on = f' ON "{table}"' if connection.vendor == "postgresql" else ""
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"{on}')
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


def installed_triggers(connection):
    """(table, trigger name) pairs of the data-version triggers the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c"
                " ON c.oid = t.tgrelid WHERE t.tgname ~ '^dv[0-9]*_'"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        return {(table, name) for table, name in cursor.fetchall() if re.match(r"dv[0-9]*_", name)}
