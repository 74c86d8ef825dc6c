"""HTML forms as a browser reads and submits them, for the AD FS sign-in pages.

A page's forms each hold their controls in document order; a control outside any form (after
`</form>`) belongs to none. `Form.submission()` builds the form data set a browser sends: every
successful control (enabled, named; checkboxes and radios only when checked; a select's selected
options, or its first when none is marked; a submit button only if it is the one clicked).
ASP.NET WebForms, as AD FS 2.0's pages are, runs a button's handler only when that button's name
is in the post, so the clicked button matters. `Page.scripted` names the form the page's script
submits by itself (`document.forms[0].submit()`), as AD FS's "Working..." pages do.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

BUTTONS = frozenset({"submit", "image", "button", "reset"})
NOT_SENT = frozenset({"button", "reset", "file"})
SCRIPTED = re.compile(
    r"document\.forms\[\s*(?:(\d+)|['\"]([^'\"]+)['\"])\s*\]\.submit\(\)"
    r"|document\.getElementById\(\s*['\"]([^'\"]+)['\"]\s*\)\.submit\(\)"
    r"|document\.([A-Za-z_]\w*)\.submit\(\)"
)


@dataclass
class Control:
    """One form control: `kind` is the input type, `select` or `textarea`."""

    kind: str
    name: str
    value: str = ""
    checked: bool = False
    disabled: bool = False
    options: list = field(default_factory=list)  # a select's [(value, text, selected)]
    multiple: bool = False


@dataclass
class Form:
    """One HTML form: where and how it posts, and its controls in document order."""

    action: str
    method: str = "get"
    name: str = ""
    id: str = ""
    controls: list = field(default_factory=list)

    def named(self, name):
        """The first control named `name`, or None."""
        return next((c for c in self.controls if c.name == name), None)

    def of_kind(self, *kinds):
        """The controls of these kinds."""
        return [c for c in self.controls if c.kind in kinds]

    @property
    def password_field(self):
        """The name of the form's password box, or None."""
        boxes = self.of_kind("password")
        return boxes[0].name if boxes else None

    @property
    def user_field(self):
        """The name of the text box that takes the user name (one named like it, else the only one)."""
        boxes = self.of_kind("text", "email")
        named = [c for c in boxes if "user" in c.name.lower()]
        chosen = named or (boxes if len(boxes) == 1 else [])
        return chosen[0].name if chosen else None

    @property
    def fields(self):
        """{name: value} of what the form sends without a click (the hidden fields and defaults)."""
        return dict(self.submission())

    def buttons(self):
        """The submit buttons (input type submit or image, or button type submit) that carry a name."""
        return [c for c in self.controls if c.kind in ("submit", "image")]

    def submission(self, clicked=None, values=None):
        """[(name, value)] a browser sends, `clicked` (a submit control) pressed, `values` typed in."""
        values = values or {}
        pairs = []
        for control in self.controls:
            if control.disabled or not control.name:
                continue
            if control.kind in ("submit", "image"):
                if control is clicked:
                    pairs += _clicked(control)
                continue
            if control.kind in NOT_SENT or (control.kind in ("checkbox", "radio") and not control.checked):
                continue
            if control.name in values:
                pairs.append((control.name, values[control.name]))
            elif control.kind == "select":
                pairs += [(control.name, value) for value in _selected(control)]
            else:
                pairs.append((control.name, control.value))
        return pairs


def _clicked(control):
    if control.kind == "image":
        return [(f"{control.name}.x", "0"), (f"{control.name}.y", "0")]
    return [(control.name, control.value)]


def _selected(control):
    chosen = [value for value, _, selected in control.options if selected]
    if not chosen and control.options and not control.multiple:
        chosen = [control.options[0][0]]
    return chosen if control.multiple else chosen[-1:]


class Page(HTMLParser):
    """A parsed page: its forms, title, error label texts and the form its script submits."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.errors, self.title = [], [], ""
        self.scripts = []
        self._form = self._select = self._option = None
        self._capture = None  # "title", "error", "option", "textarea", "script"
        self._depth = 0  # nesting depth inside the error label being captured
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if self._capture == "error":
            self._depth += 1
        if tag == "form":
            self._form = Form(attrs.get("action", ""), attrs.get("method", "get").lower(), attrs.get("name", ""))
            self._form.id = attrs.get("id", "")
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None:
            self._input(tag, attrs)
        elif tag == "select" and self._form is not None:
            self._select = Control("select", attrs.get("name", ""), disabled="disabled" in attrs)
            self._select.multiple = "multiple" in attrs
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            if self._capture == "option":  # an option closed by the next one, as HTML allows
                self._finish()
            self._option = [attrs.get("value"), "", "selected" in attrs]
            self._start("option")
        elif tag == "textarea" and self._form is not None:
            self._form.controls.append(Control("textarea", attrs.get("name", ""), disabled="disabled" in attrs))
            self._start("textarea")
        elif tag in ("title", "script"):
            self._start(tag)
        elif attrs.get("id", "").endswith(("ErrorTextLabel", "ErrorLabel")) and self._capture is None:
            self._start("error")
            self._depth = 1

    def _input(self, tag, attrs):
        kind = attrs.get("type", "submit" if tag == "button" else "text").lower()
        control = Control(kind, attrs.get("name", ""), attrs.get("value", ""), "checked" in attrs)
        control.disabled = "disabled" in attrs
        if kind in ("checkbox", "radio") and "value" not in attrs:
            control.value = "on"
        self._form.controls.append(control)

    def _start(self, what):
        self._capture, self._text = what, []

    def handle_data(self, data):
        if self._capture is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._capture == "error":
            self._depth -= 1
            if self._depth <= 0:
                self._finish()
        elif self._capture == tag or (self._capture == "option" and tag in ("option", "select")):
            self._finish()
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None

    def _finish(self):
        text, what = " ".join("".join(self._text).split()), self._capture
        self._capture = None
        if what == "title":
            self.title = text
        elif what == "error" and text:
            self.errors.append(text)
        elif what == "script":
            self.scripts.append(text)
        elif what == "textarea" and self._form is not None:
            self._form.controls[-1].value = text
        elif what == "option" and self._select is not None:
            value, _, selected = self._option
            self._select.options.append((text if value is None else value, text, selected))

    @property
    def scripted(self):
        """The form the page's script submits by itself, or None."""
        for script in self.scripts:
            for match in SCRIPTED.finditer(script):
                index, key, element_id, name = match.groups()
                if index is not None and int(index) < len(self.forms):
                    return self.forms[int(index)]
                wanted = key or element_id or name
                found = [f for f in self.forms if wanted in (f.name, f.id)]
                if found:
                    return found[0]
        return None

    def describe(self):
        """The page in a few words for an error: its error labels, else its title."""
        if self.errors:
            return " ".join(self.errors)
        return f"a page titled {self.title!r}" if self.title else "a page without a title"


def parse_page(text):
    """The `Page` (forms, title, error texts, scripts) of an HTML text."""
    page = Page()
    page.feed(text)
    page.close()
    return page
