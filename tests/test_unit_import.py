"""Units and deadlines from documents into the ledger: resolution by name and alias, unknown
units created once, re-import keeping staff edits, and merging a unit into another."""

import hashlib
from datetime import date

import pytest
from django.urls import reverse

from tracker.importing import DocumentResult, save_document
from tracker.models import Change, Measure, Unit, UnitAlias
from tracker.pipeline.types import MeasureDraft, Outline, ParsedDocument, SectionDraft

pytestmark = pytest.mark.django_db

TEXT = "一、社会救助\n健全低保动态管理机制。规范临时救助审批。推进殡葬改革。"


def draft(text, lead=(), co=(), deadline=None, **extra):
    start = TEXT.index(text)
    return MeasureDraft(
        title=text.rstrip("。"),
        text=text,
        start=start,
        end=start + len(text),
        lead_units=list(lead),
        co_units=list(co),
        deadline=deadline,
        units_text="（牵头单位：" + "、".join(lead) + "）" if lead else "",
        **extra,
    )


def parsed(*drafts, version="1"):
    section = SectionDraft(title="社会救助", kind="heading", measures=list(drafts))
    return ParsedDocument(
        source="upload/分工方案.txt",
        sha256=hashlib.sha256(version.encode()).hexdigest(),
        raw_text=TEXT,
        clean_text=TEXT,
        repairs=[],
        outline=Outline(
            title="分工方案",
            title_is_fallback=False,
            organization="",
            author="",
            sections=[section],
        ),
    )


def save(doc):
    result = DocumentResult(source=doc.source)
    save_document(doc, result)
    return result


def test_lead_units_co_units_and_deadline_come_from_the_document(units):
    save(
        parsed(
            draft(
                "健全低保动态管理机制。",
                lead=["社会救助司", "养老服务司"],
                co=["办公厅", "社会救助司"],
                deadline=date(2026, 6, 30),
                deadline_text="6月底前",
            )
        )
    )
    m = Measure.objects.get()
    assert m.unit == units["aid"]
    assert list(m.joint_units.all()) == [units["care"]]
    assert list(m.co_units.all()) == [units["office"]]  # a lead unit is never also a co-unit
    assert m.lead_units_display == "社会救助司、养老服务司"
    assert (m.deadline, m.deadline_phrase) == (date(2026, 6, 30), "6月底前")
    assert m.units_text == "（牵头单位：社会救助司、养老服务司）"
    assert m.assigned_at is not None


def test_names_match_units_by_alias_and_bracket_width(units):
    UnitAlias.objects.create(unit=units["aid"], name="救助司")
    Unit.objects.create(name="各县（市、区）政府")
    save(parsed(draft("健全低保动态管理机制。", lead=["救助司"], co=["各县(市、区)政府"])))
    m = Measure.objects.get()
    assert m.unit == units["aid"]
    assert [u.name for u in m.co_units.all()] == ["各县（市、区）政府"]
    assert Unit.objects.count() == 4


def test_unknown_units_are_created_once_and_reported(units):
    doc = parsed(
        draft("健全低保动态管理机制。", lead=["市民政局"], co=["市财政局"]),
        draft("规范临时救助审批。", lead=["市民政局"]),
    )
    result = save(doc)
    assert sorted(result.units_created) == ["市民政局", "市财政局"]
    new = Unit.objects.get(name="市民政局")
    assert new.created_from.source == "upload/分工方案.txt"
    assert Measure.objects.filter(unit=new).count() == 2

    result = save(parsed(*doc.outline.sections[0].measures, version="2"))
    assert result.units_created == []
    assert Unit.objects.filter(name="市民政局").count() == 1


def test_reimport_keeps_staff_edits_to_units_and_deadlines(units, supervisor):
    first = draft("健全低保动态管理机制。", lead=["社会救助司"], deadline=date(2026, 6, 30))
    other = draft("规范临时救助审批。", lead=["社会救助司"], deadline=date(2026, 6, 30))
    save(parsed(first, other))
    edited = Measure.objects.get(text=first.text)
    edited.edit(
        supervisor,
        {"unit": units["care"], "co_units": {units["office"]}, "deadline": date(2026, 9, 30)},
        edited.version,
    )

    changed = [
        draft(d.text, lead=["办公厅"], co=["养老服务司"], deadline=date(2026, 12, 31))
        for d in (first, other)
    ]
    result = save(parsed(*changed, version="2"))

    edited.refresh_from_db()
    assert edited.unit == units["care"]
    assert list(edited.co_units.all()) == [units["office"]]
    assert edited.deadline == date(2026, 9, 30)
    untouched = Measure.objects.get(text=other.text)
    assert untouched.unit == units["office"]
    assert list(untouched.co_units.all()) == [units["care"]]
    assert untouched.deadline == date(2026, 12, 31)
    assert (result.kept, result.updated) == (1, 1)


def test_long_term_tasks_have_no_deadline_and_say_so(units):
    save(parsed(draft("推进殡葬改革。", long_term=True, deadline_text="长期坚持")))
    m = Measure.objects.get()
    assert m.long_term and m.deadline is None and m.deadline_phrase == "长期坚持"


def test_merging_a_unit_moves_its_measures_people_and_name(units, supervisor, staff):
    save(
        parsed(
            draft("健全低保动态管理机制。", lead=["民政局"], co=["社会救助司"]),
            draft("规范临时救助审批。", lead=["社会救助司", "民政局"]),
            draft("推进殡葬改革。", lead=["养老服务司"], co=["民政局"]),
        )
    )
    duplicate = Unit.objects.get(name="民政局")
    staff.unit = duplicate
    staff.save()

    duplicate.merge_into(units["aid"], supervisor)

    assert not Unit.objects.filter(name="民政局").exists()
    first, second, third = Measure.objects.order_by("position")
    assert first.unit == units["aid"] and list(first.co_units.all()) == []
    assert second.unit == units["aid"] and list(second.joint_units.all()) == []
    assert list(third.co_units.all()) == [units["aid"]]
    staff.refresh_from_db()
    assert staff.unit == units["aid"]
    assert UnitAlias.objects.get(name="民政局").unit == units["aid"]
    assert Change.objects.filter(field="unit", note__contains="民政局 → 社会救助司").count() == 3
    # The next import of a document that says 民政局 lands on the merged unit.
    result = save(parsed(draft("健全低保动态管理机制。", lead=["民政局"]), version="2"))
    assert result.units_created == []


def test_a_unit_cannot_be_merged_into_itself(units, supervisor, client):
    client.force_login(supervisor)
    response = client.post(
        reverse("unit_merge"), {"source": units["aid"].pk, "target": units["aid"].pk}, follow=True
    )
    assert "不能把单位合并到它自己" in response.content.decode()
    assert Unit.objects.filter(pk=units["aid"].pk).exists()


def test_merge_page_is_for_supervisors_only(units, staff, leader, client):
    for user in (staff, leader):
        client.force_login(user)
        assert client.get(reverse("unit_list")).status_code == 403
        response = client.post(
            reverse("unit_merge"), {"source": units["aid"].pk, "target": units["care"].pk}
        )
        assert response.status_code == 403
    assert Unit.objects.filter(pk=units["aid"].pk).exists()


def test_supervisor_merges_on_the_units_page(units, supervisor, client):
    extra = Unit.objects.create(name="救助司")
    client.force_login(supervisor)
    page = client.get(reverse("unit_list")).content.decode()
    assert "救助司" in page
    response = client.post(reverse("unit_merge"), {"source": extra.pk, "target": units["aid"].pk})
    assert response.status_code == 302
    assert UnitAlias.objects.get(name="救助司").unit == units["aid"]


def test_unit_pages_reject_get_on_post_only_views(supervisor, client):
    client.force_login(supervisor)
    assert client.get(reverse("unit_merge")).status_code == 405
    assert client.get(reverse("document_import")).status_code == 405
