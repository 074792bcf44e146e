from django import template
from django.conf import settings

from ..lights import light_of
from ..models import Measure

register = template.Library()


@register.filter
def editable_fields(measure, user):
    return user.editable_fields(measure)


@register.filter
def days_overdue(measure, today):
    return measure.days_overdue(today)


@register.filter
def due_class(measure, today):
    """CSS hook for the deadline cell: overdue, due soon, or nothing."""
    if measure.is_overdue(today):
        return "overdue"
    if (
        not measure.is_closed
        and measure.deadline
        and (measure.deadline - today).days <= settings.DUE_SOON_DAYS
    ):
        return "soon"
    return ""


@register.filter
def light(measure, today):
    return light_of(measure, today)


@register.filter
def status_choices(measure, user):
    """Statuses offered in the inline select: the allowed ones plus the current one."""
    allowed = set(user.allowed_statuses(measure))
    if not allowed - {measure.status}:
        return []
    return [c for c in Measure.Status.choices if c[0] in allowed or c[0] == measure.status]
