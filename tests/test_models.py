from datetime import date, timedelta

import pytest

from tracker.models import Change, Measure, ProgressUpdate

from .conftest import TODAY, make_measure

pytestmark = pytest.mark.django_db


def test_edit_bumps_the_version_and_writes_history(measure, supervisor, units):
    rows = measure.edit(supervisor, {"unit": units["care"], "deadline": date(2027, 1, 1)}, 1)
    assert {(c.field, c.old, c.new) for c in rows} == {
        ("unit", "社会救助司", "养老服务司"),
        ("deadline", "2026-10-31", "2027-01-01"),
    }
    assert measure.version == 2
    assert all(c.version == 2 and c.user == supervisor for c in rows)


def test_edit_saves_the_edit_and_its_times_and_the_instance_shows_them(measure, supervisor):
    before = Measure.objects.values_list("updated_at", flat=True).get(pk=measure.pk)
    measure.edit(supervisor, {"status": Measure.Status.DONE}, 1)
    saved = Measure.objects.get(pk=measure.pk)
    assert saved.status == Measure.Status.DONE and saved.version == 2
    assert saved.updated_at > before and saved.closed_at and saved.staff_edited_at
    assert (measure.status, measure.version, measure.updated_at, measure.closed_at) == (
        saved.status,
        saved.version,
        saved.updated_at,
        saved.closed_at,
    )


def test_edit_without_a_difference_changes_nothing(measure, supervisor):
    assert measure.edit(supervisor, {"status": measure.status}, 1) == []
    measure.refresh_from_db()
    assert measure.version == 1 and measure.staff_edited_at is None


def test_stale_edit_raises_conflict_with_what_changed(measure, supervisor, staff):
    measure.edit(staff, {"status": Measure.Status.IN_PROGRESS}, 1)
    with pytest.raises(Measure.Conflict) as conflict:
        Measure.objects.get(pk=measure.pk).edit(supervisor, {"status": Measure.Status.DONE}, 1)
    assert conflict.value.current.status == Measure.Status.IN_PROGRESS
    assert [(c.field, c.new) for c in conflict.value.changes] == [("status", "推进中")]
    assert Change.objects.filter(measure=measure).count() == 1


def test_co_units_are_edited_and_recorded(measure, supervisor, units):
    rows = measure.edit(supervisor, {"co_units": [units["care"], units["office"]]}, 1)
    assert rows[0].new == "养老服务司、办公厅"  # sorted, so history reads the same every time
    assert set(measure.co_units.all()) == {units["care"], units["office"]}


def test_first_progress_report_starts_the_measure(measure, staff):
    measure.report_progress(staff, progress="已部署", percent=10)
    measure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS
    assert measure.changes.get().note == "填报进展"
    measure.report_progress(staff, progress="过半", percent=50)
    assert ProgressUpdate.objects.filter(measure=measure).count() == 2
    assert measure.changes.count() == 1


def test_roles_decide_editable_fields(measure, care_measure, supervisor, staff, leader):
    assert supervisor.editable_fields(measure) == Measure.SUPERVISOR_FIELDS
    assert staff.editable_fields(measure) == ("status",)
    assert staff.editable_fields(care_measure) == ()
    assert leader.editable_fields(measure) == ()


def test_overdue_and_due_soon_boundaries(document, staff):
    def at(days, status=Measure.Status.IN_PROGRESS, n=[0]):  # noqa: B006
        n[0] += 1
        return make_measure(
            document, n[0], f"m{n[0]}", deadline=TODAY + timedelta(days=days), status=status
        )

    yesterday, today, week, eight = at(-1), at(0), at(7), at(8)
    at(-5, Measure.Status.DONE)
    at(-5, Measure.Status.SUSPENDED)
    assert list(Measure.objects.overdue(TODAY)) == [yesterday]
    assert set(Measure.objects.due_soon(TODAY)) == {today, week}
    assert eight not in Measure.objects.due_soon(TODAY)


def test_archived_measures_are_neither_open_nor_overdue(measure):
    Measure.objects.filter(pk=measure.pk).update(archived_at="2026-11-01T00:00:00Z")
    assert not Measure.objects.overdue(TODAY).exists()
    assert not Measure.objects.open().exists()


def test_string_forms(measure, units, staff):
    assert str(measure) == "健全低保动态管理机制"
    assert str(units["aid"]) == "社会救助司"
    assert str(staff) == "Zhangmin"
    assert str(measure.section) == "做好社会救助"
    assert str(measure.document) == "测试方案"
