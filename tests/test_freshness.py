"""Stored pages (tracker/freshness.py): served again only while the data they show is unchanged.

These tests run outside a test transaction (transaction=True): pages are stored only from
committed data, so inside one nothing would be stored at all."""

import contextlib
import re
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TODAY, client_for, grow_ledger, make_measure
from tracker import freshness
from tracker.models import DataVersion, Measure, Topic, Unit, WorkflowError

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["overdue", "measure_list", "measure_detail", "my_measures"]


def url_of(page, measure):
    return reverse(page, args=[measure.pk]) if page == "measure_detail" else reverse(page)


def tokens_masked(html):
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1TOKEN", html)


def served(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return tokens_masked(response.content.decode())


def drawn_afresh(client, url):
    with override_settings(PAGE_CACHE=False):
        return served(client, url)


def assert_current(client, url):
    """What the page serves now is what drawing it from the database gives."""
    assert served(client, url) == drawn_afresh(client, url)


@pytest.fixture
def ledger(document, units, staff, measure, care_measure):
    return measure


@pytest.fixture
def looked_at(supervisor, ledger, freeze_today):
    """A supervisor's client that has seen every page once, so each is stored."""
    client = client_for(supervisor)
    for page in PAGES:
        client.get(url_of(page, ledger))
        client.get(url_of(page, ledger))
    return client


def test_every_table_of_the_watched_apps_raises_the_data_version():
    tables = freshness.watched_tables(apps)
    installed = freshness.installed_triggers(connection)
    kinds = 2 if connection.vendor == "postgresql" else 3
    for table in tables:
        assert len({name for t, name in installed if t == table}) == kinds, table
    assert "tracker_measure" in tables and "tracker_measure_topics" in tables
    assert "auth_group" in tables and freshness.TABLE not in tables


def test_a_second_look_is_served_without_drawing_the_page(looked_at, ledger):
    from django.test.utils import CaptureQueriesContext

    for page in PAGES:
        with CaptureQueriesContext(connection) as queries:
            looked_at.get(url_of(page, ledger))
        tables = " ".join(q["sql"] for q in queries.captured_queries)
        # Session, user, roles and unit (the menu), inbox badge, the version; the title on
        # the measure page.
        assert len(queries) == (7 if page in ("measure_list", "measure_detail") else 6), page
        assert "tracker_progressupdate" not in tables and "CASE WHEN" not in tables


def write_status(measure, supervisor):
    measure.edit(supervisor, {"status": Measure.Status.IN_PROGRESS}, measure.version)


def write_bulk_update(measure, supervisor):
    Measure.objects.filter(pk=measure.pk).update(deadline=TODAY - timedelta(days=40))


def write_raw_sql(measure, supervisor):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tracker_measure SET title = %s WHERE id = %s", ["改过的标题", measure.pk]
        )


def write_progress(measure, supervisor):
    measure.report_progress(measure.owner, progress="已完成摸底", percent=40)


def write_topic(measure, supervisor):
    measure.topics.add(Topic.objects.get_or_create(name=f"新领域{Topic.objects.count()}")[0])


def write_unit_name(measure, supervisor):
    unit = Unit.objects.get(pk=measure.unit_id)
    Unit.objects.filter(pk=unit.pk).update(name=unit.name + "改")


def write_owner_name(measure, supervisor):
    measure.owner.name += "改"
    measure.owner.save()


def write_extension(measure, supervisor):
    with contextlib.suppress(WorkflowError):  # one pending request at a time: refused, no change
        measure.request_extension(measure.owner, date(2027, 3, 31), "需要更多时间", TODAY)


WRITES = [
    write_status,
    write_bulk_update,
    write_raw_sql,
    write_progress,
    write_topic,
    write_unit_name,
    write_owner_name,
    write_extension,
]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_every_kind_of_write_shows_on_every_stored_page(looked_at, ledger, supervisor, write):
    before = {page: served(looked_at, url_of(page, ledger)) for page in PAGES}
    write(Measure.objects.get(pk=ledger.pk), supervisor)
    changed = 0
    for page in PAGES:
        url = url_of(page, ledger)
        assert_current(looked_at, url)
        changed += served(looked_at, url) != before[page]
    assert changed  # the write was visible somewhere, so a stale page would have been caught


def test_a_write_rolled_back_changes_nothing_and_stores_nothing(looked_at, ledger, supervisor):
    version = freshness.current_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        write_status(Measure.objects.get(pk=ledger.pk), supervisor)
        assert freshness.current_version() is None  # inside a transaction: never stored
        raise RuntimeError
    assert freshness.current_version() == version
    for page in PAGES:
        assert_current(looked_at, url_of(page, ledger))


def test_reading_pages_does_not_move_the_version(looked_at, ledger):
    version = freshness.current_version()
    for page in PAGES:
        looked_at.get(url_of(page, ledger))
    assert freshness.current_version() == version


def test_a_new_day_draws_the_page_again(supervisor, ledger, care_measure, monkeypatch):
    from django.utils import timezone

    Measure.objects.filter(pk=care_measure.pk).update(deadline=TODAY)
    day = {"today": TODAY}
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day["today"])
    client = client_for(supervisor)
    served(client, reverse("overdue"))
    assert 'data-total="overdue">1<' in served(client, reverse("overdue"))
    day["today"] = TODAY + timedelta(days=1)  # care_measure's deadline has passed
    assert 'data-total="overdue">2<' in served(client, reverse("overdue"))


def test_people_never_see_each_others_pages(supervisor, leader, staff, ledger, freeze_today):
    for user in (supervisor, leader, staff):
        client_for(user).get(reverse("overdue"))
    pages = {user: served(client_for(user), reverse("overdue")) for user in (supervisor, leader)}
    assert "催办逾期" in pages[supervisor] and "催办逾期" not in pages[leader]
    assert "批示</a>" in pages[leader] and "批示</a>" not in pages[supervisor]
    for user in (supervisor, leader, staff):
        for page in ("measure_detail", "my_measures"):
            assert_current(client_for(user), url_of(page, ledger))


def test_each_response_carries_its_own_working_csrf_token(supervisor, ledger, freeze_today):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    url = reverse("measure_list")
    pages = [client.get(url).content.decode() for _ in range(3)]
    tokens = [re.findall(r'csrfmiddlewaretoken" value="([^"]+)"', page) for page in pages]
    assert all(tokens) and len({t[0] for t in tokens}) == 3  # masked afresh each time
    assert freshness.CSRF_PLACEHOLDER not in pages[2]
    version = re.search(rf'id="measure-{ledger.pk}".*?name="version" value="(\d+)"', pages[2])
    response = client.post(
        reverse("measure_edit", args=[ledger.pk]),
        {
            "csrfmiddlewaretoken": tokens[2][0],
            "status": Measure.Status.IN_PROGRESS,
            "version": version.group(1),
            "next": url,
        },
    )
    assert response.status_code == 302
    assert Measure.objects.get(pk=ledger.pk).status == Measure.Status.IN_PROGRESS


def test_a_flushed_version_row_starts_a_new_epoch(looked_at, ledger):
    old = freshness.current_version()
    DataVersion.objects.all().delete()
    assert freshness.current_version() is None  # this request draws afresh, and says so
    new = freshness.current_version()
    assert new is not None and new.split(".")[0] != old.split(".")[0]
    for page in PAGES:
        assert_current(looked_at, url_of(page, ledger))


def test_pages_are_not_stored_when_switched_off(looked_at, ledger):
    with override_settings(PAGE_CACHE=False):
        assert freshness.current_version() is None


# Any sequence of writes and looks: every look serves what drawing the page afresh gives.
ACTIONS = st.lists(
    st.tuples(st.sampled_from(WRITES + [None]), st.sampled_from(PAGES), st.integers(0, 5)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(actions=ACTIONS)
def test_no_sequence_of_writes_and_looks_serves_a_stale_page(
    actions, supervisor, document, units, staff, freeze_today
):
    if not Measure.objects.exists():
        grow_ledger(document, units, staff, 6)
    measures = list(Measure.objects.order_by("pk"))
    client = client_for(supervisor)
    for write, page, index in actions:
        measure = measures[index % len(measures)]
        if write is not None:
            write(Measure.objects.get(pk=measure.pk), supervisor)
        assert_current(client, url_of(page, measure))


def test_a_measure_page_of_an_unknown_measure_is_not_found(supervisor, ledger):
    client = client_for(supervisor)
    missing = Measure.objects.order_by("-pk").first().pk + 1
    assert client.get(reverse("measure_detail", args=[missing])).status_code == 404
    make_measure(ledger.document, 9, "新增事项")
    assert client.get(reverse("measure_detail", args=[missing])).status_code == 200


def test_a_write_just_after_the_version_is_read_is_never_stored_as_current(
    staff, ledger, freeze_today, monkeypatch
):
    # The worst moment for a write: the version is read, then everything the page shows
    # (the user and their unit included) must be read after it.
    real, writes = freshness.current_version, []

    def version_then_a_write():
        version = real()
        if version is not None and not writes:
            writes.append(Unit.objects.filter(pk=staff.unit_id).update(name="改名后的单位"))
        return version

    client = client_for(staff)
    served(client, reverse("my_measures"))
    monkeypatch.setattr(freshness, "current_version", version_then_a_write)
    served(client, reverse("my_measures"))
    assert writes
    assert "改名后的单位" in served(client, reverse("my_measures"))
    assert_current(client, reverse("my_measures"))


def test_a_restored_backup_never_meets_a_page_stored_before(looked_at, ledger, supervisor):
    url = url_of("measure_detail", ledger)
    backup = DataVersion.objects.values_list("epoch", "n").get()
    Measure.objects.filter(pk=ledger.pk).update(title="甲")
    assert "甲" in served(looked_at, url)
    # The backup comes back under the running server: its data and its version.
    Measure.objects.filter(pk=ledger.pk).update(title=ledger.title)
    DataVersion.objects.update(epoch=backup[0], n=backup[1])
    Measure.objects.filter(pk=ledger.pk).update(title="乙")  # counts up to the number of 甲
    assert "乙" in served(looked_at, url)
    assert_current(looked_at, url)


def test_a_table_that_lost_its_triggers_gets_them_back_at_the_next_migrate(looked_at):
    from django.core.management import call_command

    # What SQLite does to a table it rebuilds for a migration.
    lost = {(t, n) for t, n in freshness.installed_triggers(connection) if t == "tracker_measure"}
    with connection.cursor() as cursor:
        for table, name in lost:
            on = f' ON "{table}"' if connection.vendor == "postgresql" else ""
            cursor.execute(f'DROP TRIGGER "{name}"{on}')
    assert lost and not lost & freshness.installed_triggers(connection)
    call_command("migrate", verbosity=0)
    assert lost <= freshness.installed_triggers(connection)


def test_a_session_with_another_search_path_still_writes(ledger):
    # pg_restore and maintenance sessions run with search_path = '' and name their tables in
    # full; the trigger must still find the version (SQLite: one schema, "main").
    freshness.current_version()  # the row, after an earlier test's flush
    version = DataVersion.objects.get()
    with transaction.atomic(), connection.cursor() as cursor:
        schema = "main"
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_schema()")
            (schema,) = cursor.fetchone()
            cursor.execute("SET LOCAL search_path = ''")
        cursor.execute(
            f'UPDATE "{schema}".tracker_measure SET title = %s WHERE id = %s', ["新标题", ledger.pk]
        )
    assert DataVersion.objects.get().n > version.n
