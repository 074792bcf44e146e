"""Saved views (常用视图): named ledger filters shown as tabs above the ledger."""

import json

import pytest
from django.urls import reverse

from tracker.forms import SavedViewForm
from tracker.models import SavedView

from .conftest import HTMX, client_for, make_user

pytestmark = pytest.mark.django_db

LEDGER = "/measures/"


def save(client, name, query="", htmx=True, **extra):
    data = {"name": name, "query": query, **extra}
    return client.post(reverse("saved_view_create"), data, **(HTMX if htmx else {}))


def tab_names(html):
    tabs = html.split('id="view-tabs"', 1)[1].split("</nav>", 1)[0]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in tabs.split("<a href=")[1:]]


def active_tab(html):
    tabs = html.split('id="view-tabs"', 1)[1].split("</nav>", 1)[0]
    marked = [part for part in tabs.split("<a href=")[1:] if 'aria-current="page"' in part]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in marked]


# Saving ------------------------------------------------------------------------------------


def test_save_a_view_with_htmx_marks_its_tab(staff, units):
    client = client_for(staff)
    response = save(client, "本司逾期", f"due=overdue&unit={units['aid'].pk}&page=3")
    assert response.status_code == 200
    view = SavedView.objects.get()
    assert (view.owner, view.name, view.shared) == (staff, "本司逾期", False)
    # Canonical: the filter form's order, the page number dropped.
    assert view.query == f"unit={units['aid'].pk}&due=overdue"
    html = response.content.decode()
    assert 'id="view-save"' in html  # the form again, empty, for the next one
    assert 'value="本司逾期"' not in html
    assert 'hx-swap-oob="true"' in html  # the tabs, out of band
    assert active_tab(html) == ["本司逾期"]
    assert json.loads(response.headers["HX-Trigger"]) == {"savedViewsChanged": {"id": view.pk}}


def test_save_a_view_without_javascript_redirects_to_its_filters(staff):
    response = save(client_for(staff), "红灯", "light=red", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == f"{LEDGER}?light=red"


def test_the_query_keeps_only_ledger_filters_and_chinese_stays_readable(staff):
    save(client_for(staff), "搜索", "q=%E4%BD%8E%E4%BF%9D&evil=1&status=&sort=deadline")
    assert SavedView.objects.get().query == "q=低保&sort=deadline"


def test_canonical_query_is_the_same_whatever_the_order():
    from django.http import QueryDict

    one = SavedViewForm.canonical(QueryDict("due=soon&status=in_progress&page=2"))
    two = SavedViewForm.canonical(QueryDict("status=in_progress&due=soon"))
    assert one == two == "status=in_progress&due=soon"
    assert SavedViewForm.canonical(QueryDict("q=a%2Bb%26c")) == "q=a%2Bb%26c"  # reserved stay


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "请填写视图名称。"), ("长" * 31, "视图名称最多 30 个字。")],
)
def test_name_is_required_and_short(staff, name, error):
    response = save(client_for(staff), name, "due=overdue")
    assert response.status_code == 200  # htmx swaps the form back with the error
    assert error in response.content.decode()
    assert not SavedView.objects.exists()


def test_names_are_unique_per_owner(staff, other_staff):
    client = client_for(staff)
    save(client, "我的", "due=overdue")
    response = save(client, "我的", "due=soon")
    assert "您已有名为“我的”的视图，请换一个名称。" in response.content.decode()
    assert SavedView.objects.count() == 1
    save(client_for(other_staff), "我的", "due=soon")  # another person may use the name
    assert SavedView.objects.count() == 2


def test_invalid_without_javascript_redirects_back_with_the_message(staff):
    client = client_for(staff)
    response = save(client, "", "due=overdue", htmx=False)
    assert response["Location"] == f"{LEDGER}?due=overdue"
    assert "请填写视图名称。" in client.get(response["Location"]).content.decode()


def test_an_overlong_query_is_refused(staff):
    response = save(client_for(staff), "长", "q=" + "x" * 100 + "&status=done" * 50)
    assert SavedView.objects.count() == 1  # 100 characters of search fit
    response = save(client_for(staff), "太长", "q=" + "%25" * 170)  # "%" stays encoded
    assert "筛选条件过长" in response.content.decode()


# Who sees and shares -----------------------------------------------------------------------


def test_personal_views_are_invisible_to_others(staff, other_staff, supervisor):
    save(client_for(staff), "我的逾期", "due=overdue")
    assert "我的逾期" in tab_names(client_for(staff).get(LEDGER).content.decode())
    for person in (other_staff, supervisor):
        assert "我的逾期" not in client_for(person).get(LEDGER).content.decode()


def test_supervisors_share_views_with_everyone(supervisor, staff, leader):
    save(client_for(supervisor), "全局逾期", "due=overdue", shared="on")
    assert SavedView.objects.get().shared
    for person in (staff, leader):
        assert "全局逾期" in tab_names(client_for(person).get(LEDGER).content.decode())


def test_staff_cannot_share_a_view_even_by_crafting_the_post(staff, other_staff):
    response = save(client_for(staff), "想共享", "due=overdue", shared="1")
    assert response.status_code == 200
    assert SavedViewForm.SHARE_ERROR in response.content.decode()
    assert not SavedView.objects.exists()
    assert "想共享" not in client_for(other_staff).get(LEDGER).content.decode()


def test_only_supervisors_are_offered_the_share_box(supervisor, staff):
    assert 'name="shared"' in client_for(supervisor).get(LEDGER).content.decode()
    assert 'name="shared"' not in client_for(staff).get(LEDGER).content.decode()


# The tabs ----------------------------------------------------------------------------------


def test_the_tab_of_the_current_filters_is_marked(staff, units):
    client = client_for(staff)
    save(client, "逾期", "due=overdue")
    save(client, "本司", f"unit={units['aid'].pk}")
    assert active_tab(client.get(LEDGER).content.decode()) == ["全部事项"]
    assert active_tab(client.get(LEDGER, {"due": "overdue"}).content.decode()) == ["逾期"]
    both = client.get(LEDGER, {"due": "overdue", "unit": units["aid"].pk}).content.decode()
    assert active_tab(both) == []
    page_two = client.get(LEDGER, {"page": 2, "due": "overdue"}).content.decode()
    assert active_tab(page_two) == ["逾期"]


def test_a_filtered_fragment_brings_the_tabs_and_the_query_out_of_band(staff):
    client = client_for(staff)
    save(client, "逾期", "due=overdue")
    html = client.get(LEDGER, {"due": "overdue"}, **HTMX).content.decode()
    assert '<nav id="view-tabs" class="view-tabs" aria-label="常用视图" hx-swap-oob="true">' in html
    assert active_tab(html) == ["逾期"]
    assert 'id="view-save-query" value="due=overdue" hx-swap-oob="true"' in html
    assert 'id="filters"' not in html  # the filters stay as the person set them
    # The whole page carries no out-of-band copy.
    page = client.get(LEDGER, {"due": "overdue"}).content.decode()
    assert "hx-swap-oob" not in page
    assert page.count('id="view-tabs"') == 1


def test_the_ledger_shows_the_rows_of_a_tab(staff, measure, care_measure, freeze_today):
    client = client_for(staff)
    save(client, "逾期", "due=overdue")
    view = SavedView.objects.get()
    html = client.get(f"{LEDGER}?{view.query}").content.decode()
    assert f'id="measure-{measure.pk}"' in html
    assert f'id="measure-{care_measure.pk}"' not in html


# Deleting ----------------------------------------------------------------------------------


def delete(client, view, htmx=True, confirm=True, **extra):
    """htmx sends confirm=1 once the browser's dialog is accepted; a plain form on the second
    page it is shown."""
    url = reverse("saved_view_delete", args=[view.pk])
    data = {**extra, **({"confirm": "1"} if confirm else {})}
    return client.post(url, data, **(HTMX if htmx else {}))


def test_delete_your_own_view(staff):
    client = client_for(staff)
    save(client, "逾期", "due=overdue")
    view = SavedView.objects.get()
    response = delete(client, view, HTTP_HX_CURRENT_URL="http://testserver/measures/?due=overdue")
    assert response.status_code == 200
    assert not SavedView.objects.exists()
    assert "逾期" not in tab_names(response.content.decode())
    assert "savedViewsChanged" in json.loads(response.headers["HX-Trigger"])


def test_delete_without_javascript_goes_back(staff):
    client = client_for(staff)
    save(client, "逾期", "due=overdue")
    response = delete(client, SavedView.objects.get(), htmx=False, next="/measures/?due=overdue")
    assert response["Location"] == "/measures/?due=overdue"
    assert not SavedView.objects.exists()


def test_without_javascript_a_delete_is_asked_for_again_first(staff):
    client = client_for(staff)
    save(client, "逾期", "due=overdue")
    view = SavedView.objects.get()
    response = delete(client, view, htmx=False, confirm=False, next="/measures/?due=overdue")
    assert response["Location"] == f"/measures/?due=overdue&confirm_delete={view.pk}#view-tabs"
    assert SavedView.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "确认删除“逾期”" in page and 'name="confirm" value="1"' in page


def test_nobody_deletes_someone_elses_personal_view(staff, other_staff, supervisor):
    save(client_for(staff), "我的", "due=overdue")
    view = SavedView.objects.get()
    for person in (other_staff, supervisor):
        assert delete(client_for(person), view).status_code == 404
    assert SavedView.objects.exists()


def test_only_supervisors_and_the_author_delete_a_shared_view(supervisor, staff, groups, units):
    save(client_for(supervisor), "全局", "due=overdue", shared="on")
    view = SavedView.objects.get()
    assert delete(client_for(staff), view).status_code == 403
    html = client_for(staff).get(LEDGER).content.decode()
    assert reverse("saved_view_delete", args=[view.pk]) not in html  # no button offered
    colleague = make_user("ducha2", "督查员", units["office"], groups)
    assert delete(client_for(colleague), view).status_code == 200
    assert not SavedView.objects.exists()


def test_actions_need_sign_in_and_post(client, staff):
    response = client.post(reverse("saved_view_create"), {"name": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client_for(staff).get(reverse("saved_view_create")).status_code == 405
    assert not SavedView.objects.exists()


def test_csrf_is_required(staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(reverse("saved_view_create"), {"name": "x", "query": ""})
    assert response.status_code == 403
    assert not SavedView.objects.exists()


# Cost --------------------------------------------------------------------------------------


def test_tabs_cost_one_query_however_many_views(staff, supervisor, django_assert_num_queries):
    client = client_for(staff)
    client.get(LEDGER)  # the session's first write is not the page's cost

    def queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            client.get(LEDGER, {"due": "overdue"})
        return len(context.captured_queries)

    SavedView.objects.create(owner=staff, name="一", query="due=overdue")
    few = queries()
    SavedView.objects.bulk_create(
        [SavedView(owner=staff, name=f"视图{i}", query=f"q={i}") for i in range(30)]
        + [SavedView(owner=supervisor, name=f"共享{i}", query="", shared=True) for i in range(10)]
    )
    with django_assert_num_queries(few):
        html = client.get(LEDGER, {"due": "overdue"}).content.decode()
    assert len(tab_names(html)) == 1 + 1 + 30 + 10
