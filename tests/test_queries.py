"""List pages cost the same number of queries for 20 measures as for 2,000."""

import pytest
from django.urls import reverse

from tracker.models import ProgressUpdate

from .conftest import client_for, count_queries, grow_ledger

pytestmark = pytest.mark.django_db


def grow(document, units, staff, total):
    """Measures with owners, units, deadlines around today and a progress entry each."""
    measures = grow_ledger(document, units, staff, total)
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(measure=m, author=staff, progress=f"进展{m.pk}") for m in measures
    )


@pytest.mark.parametrize("name", ["measure_list", "my_measures", "overdue"])
def test_list_pages_make_the_same_queries_for_20_and_2000_measures(
    name, supervisor, staff, document, units, freeze_today
):
    client = client_for(staff if name == "my_measures" else supervisor)
    url = reverse(name)
    grow(document, units, staff, 20)
    client.get(url)  # the session's first write of the day is not the page's cost
    small = count_queries(client, url)
    grow(document, units, staff, 2000)
    large = count_queries(client, url)
    assert small == large
    # The dashboard's GROUP BYs group by ids and name the few units and 领域 after, and it counts
    # "due soon" and 待交办 over their indexes (tracker/views.py, light_counts): two more each.
    assert large <= (18 if name == "overdue" else 16)


def test_ledger_query_budget(django_assert_max_num_queries, supervisor, staff, document, units):
    grow(document, units, staff, 300)
    client = client_for(supervisor)
    client.get(reverse("measure_list"))  # the session's first write is not the page's cost
    with django_assert_max_num_queries(16):  # 14 + the inbox badge + the saved-view tabs
        client.get(
            reverse("measure_list"), {"unit": units["aid"].pk, "q": "事项", "sort": "deadline"}
        )
