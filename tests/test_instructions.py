"""Leaders' 批示 and 圈阅, and the 待交办 queue."""

from datetime import date

import pytest
from django.urls import reverse

from tracker.lights import Light
from tracker.models import Change, Instruction, Measure, Notification, Reading

from .conftest import HTMX, client_for, make_measure, make_user

pytestmark = pytest.mark.django_db


# 批示 ------------------------------------------------------------------------------------


def test_a_leaders_instruction_reaches_owner_and_supervisors_and_the_history(
    leader, supervisor, staff, other_staff, measure
):
    response = client_for(leader).post(
        reverse("measure_instruct", args=[measure.pk]), {"text": "请加快进度，月底前报结果"}, **HTMX
    )
    assert response.status_code == 200
    assert "measureUpdated" in response["HX-Trigger"]
    assert "请加快进度" in response.content.decode()
    instruction = Instruction.objects.get()
    assert instruction.measure == measure and instruction.author == leader
    for person in (staff, supervisor):
        (notice,) = person.notifications.all()
        assert notice.kind == Notification.Kind.INSTRUCTION and "请加快进度" in notice.text
    assert not other_staff.notifications.exists()
    assert not leader.notifications.exists()
    assert Change.objects.filter(measure=measure, field="instruction").exists()
    page = client_for(staff).get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert "请加快进度，月底前报结果" in page and "待回复" in page


def test_only_leaders_may_instruct_and_an_empty_one_is_refused(leader, supervisor, staff, measure):
    url = reverse("measure_instruct", args=[measure.pk])
    assert client_for(staff).post(url, {"text": "x"}).status_code == 403
    assert client_for(supervisor).post(url, {"text": "x"}).status_code == 403
    response = client_for(leader).post(url, {"text": "   "}, **HTMX)
    assert response.status_code == 200 and "请填写批示内容" in response.content.decode()
    assert not Instruction.objects.exists()
    assert client_for(leader).get(url).status_code == 405


def test_leaders_stay_read_only_for_everything_else(leader, measure):
    client = client_for(leader)
    edit = client.post(
        reverse("measure_edit", args=[measure.pk]),
        {"status": "in_progress", "version": measure.version},
        **HTMX,
    )
    assert edit.status_code == 403
    progress = client.post(reverse("measure_progress", args=[measure.pk]), {"progress": "x"})
    assert progress.status_code == 403
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


def test_the_owner_answers_with_a_progress_report_and_the_dashboard_clears(
    leader, supervisor, staff, measure
):
    measure.instruct(leader, "请报送最新进展")
    instruction = Instruction.objects.get()
    dashboard = client_for(supervisor).get(reverse("overdue")).content.decode()
    assert "未回复的领导批示（1）" in dashboard and "请报送最新进展" in dashboard
    detail = client_for(staff).get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert f'<option value="{instruction.pk}" selected>' in detail  # the unanswered one
    response = client_for(staff).post(
        reverse("measure_progress", args=[measure.pk]),
        {"progress": "已完成复核", "instruction": instruction.pk},
    )
    assert response.status_code == 302
    assert instruction.answers.get().progress == "已完成复核"
    assert leader.notifications.get().kind == Notification.Kind.ANSWERED
    assert (
        "未回复的领导批示（0）" in client_for(supervisor).get(reverse("overdue")).content.decode()
    )


def test_a_report_cannot_answer_an_instruction_on_another_measure(
    leader, staff, measure, care_measure
):
    care_measure.instruct(leader, "别的事项")
    other = Instruction.objects.get()
    response = client_for(staff).post(
        reverse("measure_progress", args=[measure.pk]),
        {"progress": "进展", "instruction": other.pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert not other.answers.exists()


def test_an_instruction_on_a_units_list_reaches_that_units_staff(
    leader, supervisor, staff, other_staff, units, measure
):
    url = reverse("unit_instruct", args=[units["aid"].pk])
    assert client_for(staff).get(url).status_code == 200  # readable
    assert client_for(staff).post(url, {"text": "x"}).status_code == 403
    response = client_for(leader).post(url, {"text": "社会救助司本月须清零逾期"})
    assert response.status_code == 302
    notice = staff.notifications.get()
    assert notice.kind == Notification.Kind.INSTRUCTION and notice.unit == units["aid"]
    assert supervisor.notifications.exists() and not other_staff.notifications.exists()
    inbox = client_for(staff).get(reverse("inbox")).content.decode()
    assert f'href="{url}">社会救助司全部事项</a>' in inbox  # the notice leads to the list
    # It is offered as the 批示 to answer on the unit's measures.
    detail = client_for(staff).get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert "社会救助司本月须清零逾期" in detail


# 圈阅 ------------------------------------------------------------------------------------


def test_a_leader_marks_a_measure_read_once(leader, staff, measure):
    url = reverse("measure_read", args=[measure.pk])
    assert client_for(staff).post(url).status_code == 403
    client = client_for(leader)
    assert client.post(url, **HTMX).status_code == 200
    assert client.post(url).status_code == 302
    assert Reading.objects.filter(measure=measure, user=leader).count() == 1
    assert Change.objects.filter(measure=measure, field="reading").count() == 1
    page = client.get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert "已阅：Lingdao" in page and "圈阅（已阅）" not in page


def test_a_leader_marks_the_monthly_report_read(leader, staff, freeze_today):
    client = client_for(leader)
    assert "圈阅（已阅）" in client.get(reverse("report_monthly")).content.decode()
    assert client.post(reverse("report_read"), {"month": "2026-11"}).status_code == 302
    assert Reading.objects.get(user=leader).month == date(2026, 11, 1)
    page = client.get(reverse("report_monthly") + "?month=2026-11").content.decode()
    assert "已阅：Lingdao" in page and "圈阅（已阅）" not in page
    assert client_for(staff).post(reverse("report_read"), {"month": "2026-11"}).status_code == 403
    client.post(reverse("report_read"), {"month": "2099-01"})
    assert Reading.objects.count() == 1


# 待交办 ----------------------------------------------------------------------------------


@pytest.fixture
def queue(document, units, staff):
    return {
        "no_owner": make_measure(document, 20, "无责任人", unit=units["aid"]),
        "no_unit": make_measure(document, 21, "无牵头单位", owner=staff),
        "assigned": make_measure(document, 22, "已交办", unit=units["aid"], owner=staff),
        "closed": make_measure(document, 23, "已办结未分配", status="done"),
    }


def test_unassigned_measures_are_never_green(queue, freeze_today):
    lights = dict(Measure.objects.with_light(freeze_today).values_list("title", "light"))
    assert lights["无责任人"] == lights["无牵头单位"] == Light.UNASSIGNED
    assert lights["已交办"] == Light.GREEN and lights["已办结未分配"] == Light.DONE


def test_the_unassigned_filter_and_the_dashboard_count_agree(supervisor, queue, freeze_today):
    client = client_for(supervisor)
    ledger = client.get(reverse("measure_list"), {"assigned": "no"})
    titles = {m.title for m in ledger.context["page"]}
    assert titles == {"无责任人", "无牵头单位"}
    assert "待交办" in ledger.content.decode()
    dashboard = client.get(reverse("overdue"))
    assert dashboard.context["dash"]["totals"]["unassigned"] == 2
    assert 'href="/measures/?assigned=no"' in dashboard.content.decode()


def test_supervisors_assign_the_queue_in_bulk(supervisor, staff, queue, freeze_today):
    ids = [f"{m.pk}:{m.version}" for m in (queue["no_owner"], queue["no_unit"])]
    unit = staff.unit
    response = client_for(supervisor).post(
        reverse("measure_bulk"), {"ids": ids, "owner": staff.pk, "unit": unit.pk}
    )
    assert response.status_code == 302
    assert not Measure.objects.unassigned().exists()
    assert staff.notifications.filter(kind=Notification.Kind.ASSIGNED).count() == 1


def test_a_leader_is_not_offered_as_an_owner(supervisor, leader, staff, groups, units):
    from tracker.models import User

    both = make_user("jianguan", "领导", units["office"], groups)
    both.groups.add(groups[User.SUPERVISOR])
    owners = set(User.objects.assignable())
    assert staff in owners and supervisor in owners and both in owners
    assert leader not in owners


def test_an_instruction_on_a_measure_without_owner_reaches_its_units_staff(
    leader, supervisor, staff, other_staff, document, units
):
    waiting = make_measure(document, 30, "尚未交办", unit=units["aid"])
    waiting.instruct(leader, "请尽快明确责任人")
    assert staff.notifications.get().kind == Notification.Kind.INSTRUCTION
    assert supervisor.notifications.exists() and not other_staff.notifications.exists()


def test_the_assigned_filter_splits_the_open_ledger(supervisor, queue, freeze_today):
    client = client_for(supervisor)
    yes = {
        m.title for m in client.get(reverse("measure_list"), {"assigned": "yes"}).context["page"]
    }
    no = {m.title for m in client.get(reverse("measure_list"), {"assigned": "no"}).context["page"]}
    assert yes == {"已交办"} and no == {"无责任人", "无牵头单位"}  # closed ones in neither


def test_sorting_by_unit_puts_measures_without_one_last(supervisor, queue, freeze_today):
    page = client_for(supervisor).get(reverse("measure_list"), {"sort": "unit"}).context["page"]
    assert [m.unit_id is None for m in page][-2:] == [True, True]
    assert page[0].unit_id is not None
