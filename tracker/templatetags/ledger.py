from django import template
from django.conf import settings

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
