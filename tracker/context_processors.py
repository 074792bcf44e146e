from django.utils.functional import SimpleLazyObject


def inbox(request):
    """The unread count for the top bar's badge: one indexed COUNT, only on pages that show
    it (the lazy object is evaluated by the template, not here)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": SimpleLazyObject(lambda: user.notifications.unread().count())}
