"""The quick renderers draw exactly what Django's templates and filters draw."""

import re

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tracker.models import Instruction, Measure

from .conftest import HTMX, client_for, make_measure

DJANGO = "django.forms.renderers.DjangoTemplates"
TOKEN = re.compile(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"')


def both(client, url, settings, **extra):
    quick = client.get(url, **extra).content.decode()
    settings.FORM_RENDERER = DJANGO
    plain = client.get(url, **extra).content.decode()
    settings.FORM_RENDERER = "tracker.renderers.QuickWidgetRenderer"
    return TOKEN.sub(r"\1", quick), TOKEN.sub(r"\1", plain)


@pytest.fixture
def busy(measure, care_measure, leader, document, units, staff):
    measure.instruct(leader, '请加快 <b>"进度"</b> & 报结果')
    make_measure(
        document,
        9,
        "周报事项",
        unit=units["aid"],
        owner=staff,
        report_cadence="weekly",
        report_day=5,
    )
    return measure


@pytest.mark.parametrize("who", ["supervisor", "staff", "leader"])
@pytest.mark.django_db
def test_every_page_with_forms_is_drawn_the_same(who, request, busy, settings, freeze_today):
    client = client_for(request.getfixturevalue(who))
    urls = [
        reverse("measure_detail", args=[busy.pk]),
        reverse("measure_list") + "?q=<x>&status=bogus&unit=99999999999999999999",
        reverse("overdue"),
        reverse("my_measures"),
        reverse("calendar"),
        reverse("document_list"),
        reverse("report_monthly"),
        reverse("ledger_import"),
    ]
    if who == "supervisor":
        urls.append(reverse("unit_list"))
    for url in urls:
        quick, plain = both(client, url, settings)
        assert quick == plain, url


@pytest.mark.django_db
def test_forms_with_errors_are_drawn_the_same(supervisor, busy, settings):
    client = client_for(supervisor)
    url = reverse("measure_edit", args=[busy.pk])
    data = {"version": busy.version, "title": "", "deadline": "2026-02-30", "fragment": "detail"}
    quick = client.post(url, data, **HTMX).content.decode()
    settings.FORM_RENDERER = DJANGO
    plain = client.post(url, data, **HTMX).content.decode()
    assert "error" in quick
    assert TOKEN.sub(r"\1", quick) == TOKEN.sub(r"\1", plain)
    assert Instruction.objects.exists() and Measure.objects.get(pk=busy.pk).title


@given(text=st.text(max_size=60), length=st.integers(1, 50))
def test_the_quick_cut_agrees_with_truncatechars(text, length):
    from django.template.defaultfilters import truncatechars

    from tracker.templatetags.ledger import clip, clip_title

    assert clip(text, length) == truncatechars(text, length)
    assert clip_title(text, length) == truncatechars(text, length)
