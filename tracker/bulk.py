"""Plain SQL for the import's many rows and its lookups made on every document.

For a short document the ORM spent more time preparing and compiling than the database spent
working. Inserts: not bulk_create, which prepares every value of every object through its
field and reads the ids back; not executemany, which runs the statement once per row, and on a
table with triggers (every table has the data version's, tracker/freshness.py) SQLite opens a
statement journal for each run, which costs more than the row itself.
"""

from datetime import date

from django.db import connections, router

# PostgreSQL takes 65,535 parameters a statement; Django's batch size leaves that to us.
MAX_PARAMS = 65535


def connection_for(model):
    return connections[router.db_for_write(model)]


def insert_sql(model, fields, rows=1):
    """INSERT INTO the model's table of `rows` rows of `fields` (placeholders)."""
    qn = connection_for(model).ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES {values}"


def insert_many(model, fields, rows):
    """INSERT `rows` (lists of database values for `fields`), one statement per batch."""
    if not rows:
        return
    connection = connection_for(model)
    size = min(connection.ops.bulk_batch_size(fields, rows), MAX_PARAMS // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cursor.execute(insert_sql(model, fields, len(batch)), [v for row in batch for v in row])


# Values that a field of this type stores as they are: its get_db_prep_save returns them.
PLAIN_TYPES = {
    "CharField": str,
    "TextField": str,
    "IntegerField": int,
    "PositiveIntegerField": int,
    "BigIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
    "BooleanField": bool,
}


def _plain_type(field):
    target = field.target_field if field.is_relation else field  # a foreign key: its target's
    return PLAIN_TYPES.get(target.get_internal_type())


_UNSET = object()


def insert_rows(model, template, rows: list[dict]) -> None:
    """INSERT rows of `model`: each row (a dict by attname) sets some columns, the others
    are as on `template`.

    bulk_create() was most of the import's time: it prepares every field of every object.
    Here the columns all rows share (defaults, auto_now times, the document) are prepared
    once, by the fields themselves as the ORM would, so a field added to the model gets its
    default; per row, only the columns it sets, and a plain value (a string for a text
    field, an int for an integer or a foreign key) needs no preparing.
    """
    if not rows:
        return
    connection = connection_for(model)
    fields = insert_fields(model)
    shared = [f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields]
    named = set().union(*rows)
    varying = [(i, f, _plain_type(f)) for i, f in enumerate(fields) if f.attname in named]
    params = []
    prepared = {}  # a date or time (the import's, a deadline) recurs on many rows: once each
    for row in rows:
        values = list(shared)
        for i, f, plain in varying:
            raw = row.get(f.attname, _UNSET)
            if raw is _UNSET:
                continue
            if raw is None or type(raw) is plain:
                values[i] = raw
            elif isinstance(raw, date):  # datetimes too
                if (i, raw) not in prepared:
                    prepared[i, raw] = f.get_db_prep_save(raw, connection)
                values[i] = prepared[i, raw]
            else:
                values[i] = f.get_db_prep_save(raw, connection)
        params.append(values)
    insert_many(model, fields, params)


def insert_row(obj) -> None:
    """INSERT one new object and set its id: what obj.save() does, without the ORM's
    overhead (signals, SQL compilation), which cost more than the INSERT of a short document."""
    model = type(obj)
    connection = connection_for(model)
    if not connection.features.can_return_columns_from_insert:
        obj.save()
        return
    fields = insert_fields(model)
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    returning, _params = connection.ops.return_insert_columns([model._meta.pk])
    with connection.cursor() as cursor:
        cursor.execute(f"{insert_sql(model, fields)} {returning}", values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_fields(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]


def select_in(model, names, where, values, *, live_only=False) -> list[tuple]:
    """SELECT the fields `names` of the rows whose field `where` is one of `values`; with
    live_only, not archived. Plain SQL, for the lookups made on every document: the ORM
    spends more time compiling such a query than the database spends running it."""
    connection = connection_for(model)
    qn = connection.ops.quote_name
    opts = model._meta
    columns = ", ".join(qn(opts.get_field(name).column) for name in names)
    marks = ", ".join(["%s"] * len(values))
    sql = f"SELECT {columns} FROM {qn(opts.db_table)} WHERE {qn(opts.get_field(where).column)} IN ({marks})"
    if live_only:
        sql += f" AND {qn(opts.get_field('archived_at').column)} IS NULL"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values))
        return cursor.fetchall()


def update_rows(model, names, objs) -> None:
    """UPDATE `names` of every object with one executemany (bulk_update builds a CASE per
    field and, on SQLite, batches of 58 rows)."""
    objs = list(objs)
    if not objs:
        return
    connection = connection_for(model)
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    pk = model._meta.pk
    sql = f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE {qn(pk.column)} = %s"
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
