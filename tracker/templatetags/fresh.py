from django import template
from django.template.base import token_kwargs

from .. import freshness

register = template.Library()


class FreshNode(template.Node):
    def __init__(self, name, nodelist, vary, using):
        self.name, self.nodelist, self.vary, self.using = name, nodelist, vary, using

    def draw(self, context, **extra):
        # A view that draws the page from a plain context (a form with errors) has no `using`.
        values = (self.using.resolve(context) if self.using else None) or {}
        with context.push(**values, **extra):
            return self.nodelist.render(context)

    def render(self, context):
        request = context.get("request")
        token = context.get("csrf_token")
        if request is None or "today" not in context:
            return self.draw(context)
        vary = [(key, value.resolve(context)) for key, value in self.vary.items()]
        html = freshness.fragment(
            self.name,
            request,
            context["today"],
            vary,
            lambda placeholder: self.draw(context, csrf_token=placeholder),
        )
        if html is None:
            return self.draw(context)
        return html.replace(freshness.CSRF_PLACEHOLDER, str(token) if token else "")


@register.tag
def fresh(parser, token):
    """{% fresh "name" key=value … [using=values] %}…{% endfresh %}: the enclosed markup,
    stored for the current data version, day (`today`), user and the given values
    (tracker.freshness). `using` names a mapping (lazy, from the view) whose items the block
    is drawn with: it is evaluated only when the block is drawn, not when it was stored.
    Everything the block shows must come from the database, `today`, the user or those
    values: nothing from the session, messages or a form bound to POST data."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fresh %} needs a name")
    name = bits[1].strip("\"'")
    vary = token_kwargs(bits[2:], parser)
    using = vary.pop("using", None)
    if len(vary) + bool(using) != len(bits) - 2:
        raise template.TemplateSyntaxError("{% fresh %} takes key=value pairs after its name")
    nodelist = parser.parse(("endfresh",))
    parser.delete_first_token()
    return FreshNode(name, nodelist, vary, using)
