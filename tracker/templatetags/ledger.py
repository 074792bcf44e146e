from django import template
from django.conf import settings

from .. import lights
from ..lights import light_of
from ..models import Measure

register = template.Library()


@register.filter
def due_class(measure, today):
    """CSS hook for the deadline: overdue, due soon, or nothing."""
    if measure.is_overdue(today):
        return "overdue"
    if measure.is_closed:
        return ""
    return "soon" if lights.is_due_soon(measure.deadline, today, settings.DUE_SOON_DAYS) else ""


def status_choices(measure, user):
    """Statuses offered in the inline select: the allowed ones plus the current one."""
    allowed = set(user.allowed_statuses(measure))
    if not allowed - {measure.status}:
        return []
    return [c for c in Measure.Status.choices if c[0] in allowed or c[0] == measure.status]


@register.simple_tag
def row_facts(measure, user, today):
    """Everything a ledger row derives from its measure, computed once per row."""
    return {
        "due": due_class(measure, today),
        "days_overdue": measure.days_overdue(today),
        "light": light_of(measure, today),
        "statuses": status_choices(measure, user),
        "can_assign": "owner" in user.editable_fields(measure),
    }
