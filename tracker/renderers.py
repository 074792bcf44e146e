"""A form renderer that draws Django's plain widgets in Python.

Django renders every widget, and every <option> of every select, through a template. A
measure page carries a dozen forms, and those templates were over half of its time. The
markup here is exactly what Django's own widget templates produce (tests/test_renderers.py
compares the two on every form of the app); any other widget template renders as usual.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, escape

WIDGETS = "django/forms/widgets/"
INPUT_TYPES = ("text", "number", "email", "url", "password", "hidden", "date", "checkbox")
INPUTS = {f"{WIDGETS}{kind}.html" for kind in INPUT_TYPES}
OPTION = f"{WIDGETS}select_option.html"


def attributes(attrs):
    """attrs.html: `name` for True, nothing for False, `name="value"` otherwise."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def render_input(widget):
    value = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{attributes(widget['attrs'])}>"
    )


def render_textarea(widget):
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{attributes(widget["attrs"])}>\n'
        f"{value}</textarea>"
    )


def render_select(widget):
    parts = [f'<select name="{conditional_escape(widget["name"])}"{attributes(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION:
                return None  # a custom option template: let Django draw the whole select
            parts.append(
                f'\n  <option value="{escape(option["value"])}"{attributes(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"  # the option file's own newline
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


DRAWN = {
    **dict.fromkeys(INPUTS, render_input),
    f"{WIDGETS}textarea.html": render_textarea,
    f"{WIDGETS}select.html": render_select,
}


class QuickWidgetRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        draw = DRAWN.get(template_name)
        if draw is not None and "widget" in context:
            html = draw(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request)
