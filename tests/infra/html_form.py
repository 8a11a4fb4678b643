"""An HTML form as a browser without JavaScript sees it: its controls, a user's actions, and
the form data it submits.

Follows the HTML standard's rules for what a form submits ("constructing the entry list"):
controls in tree order; a control without a `name`, a disabled control (or one inside a
disabled <fieldset>), an unchecked radio or checkbox, and buttons are left out; a text input
submits its value even when empty; a <select> submits its selected <option>s (a single select
with none marked `selected` submits its first enabled option; with several marked, the last
one). The submission is urlencoded and parsed back with tornado's own parser, as JupyterHub's
spawn handler reads `request.body_arguments`.

What is not modelled: CSS (only the `hidden`/`d-none` classes and the `hidden` attribute count
as invisible; a `<noscript><style>` rule `.cls[hidden]{display:block}` makes the attribute not
count on elements of that class, as such a browser applies <noscript> content), <datalist>,
file inputs, `form=` attributes, multi-selects' keyboard behaviour.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

from tornado.httputil import parse_body_arguments

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
HIDDEN_CLASSES = {"hidden", "d-none"}
# `.cls[hidden]{... display: <not none> ...}` in a <noscript> style: shown without JavaScript
_NOSCRIPT_SHOWN = re.compile(r"\.([\w-]+)\[hidden\]\s*\{[^}]*display\s*:\s*(?!none)[\w-]+")
_ids = itertools.count()


class FormError(AssertionError):
    """A user could not do this on the page (no such control, disabled, hidden)."""


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str | None]
    parent: Element | None = None
    uid: int = field(default_factory=lambda: next(_ids))

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass(eq=False)
class Option:
    element: Element
    value: str
    disabled: bool
    selected: bool


@dataclass(eq=False)
class Control:
    """An <input>, <select> or <textarea>; `attrs` may be changed (as a page's script would)."""

    element: Element
    value: str = ""
    checked: bool = False
    options: list[Option] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return self.element.tag

    @property
    def attrs(self) -> dict[str, str | None]:
        return self.element.attrs

    @property
    def name(self) -> str | None:
        return self.attrs.get("name")

    @property
    def type(self) -> str:
        return (self.attrs.get("type") or "text").lower() if self.tag == "input" else self.tag

    def disabled(self) -> bool:
        if "disabled" in self.attrs:
            return True
        return any(a.tag == "fieldset" and "disabled" in a.attrs for a in self.element.ancestors())

    shown_without_js: frozenset[str] = frozenset()  # classes a <noscript> style un-hides

    def visible(self) -> bool:
        nodes = [self.element, *self.element.ancestors()]
        return self.type != "hidden" and not any(
            ("hidden" in n.attrs and not n.classes() & self.shown_without_js)
            or n.classes() & HIDDEN_CLASSES
            for n in nodes
        )

    def selected_values(self) -> list[str]:
        chosen = [o for o in self.options if o.selected]
        if not chosen and "multiple" not in self.attrs:
            chosen = [o for o in self.options if not o.disabled][:1]
        return [o.value for o in chosen if not o.disabled]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.node = self.root
        self.controls: list[Control] = []
        self.scripts: list[str] = []
        self.noscript_styles: list[str] = []
        self._select: Control | None = None
        self._text: list[str] | None = None  # text of the open <option>/<textarea>/<script>
        self._text_owner: object = None

    def handle_starttag(self, tag, attrs):
        attributes = {k: v for k, v in attrs}
        if tag == "option" and self._select is not None:
            self._close_text()
        element = Element(tag, attributes, self.node)
        if tag in ("input", "select", "textarea"):
            control = Control(element, value=attributes.get("value") or "")
            control.checked = "checked" in attributes
            self.controls.append(control)
            if tag == "select":
                self._select = control
            if tag == "textarea":
                self._open_text(control)
        elif tag == "option" and self._select is not None:
            option = Option(element, attributes.get("value"), "disabled" in attributes,
                            "selected" in attributes)  # type: ignore[arg-type]  # fmt: skip
            self._select.options.append(option)
            self._open_text(option)
        elif tag == "script":
            self._open_text("script")
        elif tag == "style" and any(a.tag == "noscript" for a in element.ancestors()):
            self._open_text("noscript-style")
        if tag not in VOID:
            self.node = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in ("option", "select", "textarea", "script", "style"):
            self._close_text()
        if tag == "select":
            self._select = None
        node = self.node
        while node is not self.root and node.tag != tag:
            node = node.parent  # type: ignore[assignment]  # unclosed elements end here too
        if node is not self.root:
            self.node = node.parent  # type: ignore[assignment]

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def _open_text(self, owner):
        self._close_text()
        self._text, self._text_owner = [], owner

    def _close_text(self):
        if self._text is None:
            return
        text, owner = "".join(self._text), self._text_owner
        self._text, self._text_owner = None, None
        if isinstance(owner, Option) and owner.value is None:
            owner.value = " ".join(text.split())  # an option without value= submits its text
        elif isinstance(owner, Control):
            owner.value = text
        elif owner == "script":
            self.scripts.append(text)
        elif owner == "noscript-style":
            self.noscript_styles.append(text)


class HtmlForm:
    """The controls of one form (the HTML JupyterHub puts inside spawn.html's <form>)."""

    def __init__(self, html: str):
        parser = _Parser()
        parser.feed(html)
        parser.close()
        parser._close_text()
        self.controls = parser.controls
        self.scripts = parser.scripts
        shown = frozenset(m for css in parser.noscript_styles for m in _NOSCRIPT_SHOWN.findall(css))
        for control in self.controls:
            control.shown_without_js = shown
        last: dict[str | None, Control] = {}  # parsing leaves one checked radio per group, the last
        for control in self.controls:
            if control.type == "radio" and control.checked:
                if control.name in last:
                    last[control.name].checked = False
                last[control.name] = control
        for select in self.selects():
            marked = [o for o in select.options if o.selected]
            if "multiple" not in select.attrs:
                for o in marked[:-1]:
                    o.selected = False

    # --- finding controls ---------------------------------------------------------------
    def selects(self) -> list[Control]:
        return [c for c in self.controls if c.tag == "select"]

    def by_id(self, id_: str) -> Control:
        found = [c for c in self.controls if c.attrs.get("id") == id_]
        if not found:
            raise FormError(f"the page has no form control with id {id_!r}")
        return found[0]

    def radios(self, name: str) -> list[Control]:
        return [c for c in self.controls if c.type == "radio" and c.name == name]

    def _uncheck_others(self, radio: Control) -> None:
        for other in self.radios(radio.name or ""):
            if other is not radio:
                other.checked = False

    # --- what a user does ---------------------------------------------------------------
    def check_radio(self, name: str, value: str) -> Control:
        """Click the radio `name`=`value` (as a user sees it: enabled and visible)."""
        found = [r for r in self.radios(name) if r.value == value]
        if not found:
            shown = [r.value for r in self.radios(name)]
            raise FormError(f"no radio {name}={value!r} on the page (there are {shown})")
        radio = found[0]
        self._usable(radio)
        radio.checked = True
        self._uncheck_others(radio)
        return radio

    def choose(self, select: Control, value: str) -> bool:
        """Pick `value` in a single <select>; True when the selection changed."""
        self._usable(select)
        options = [o for o in select.options if o.value == value and not o.disabled]
        if not options:
            shown = [o.value for o in select.options]
            raise FormError(f"select #{select.attrs.get('id')} has no option {value!r} ({shown})")
        before = select.selected_values()
        for o in select.options:
            o.selected = o is options[0]
        return select.selected_values() != before

    def type_text(self, control: Control, text: str) -> None:
        self._usable(control)
        if "readonly" in control.attrs:
            raise FormError(f"#{control.attrs.get('id')} is read-only")
        if control.tag == "input":  # a text input's value sanitisation strips line breaks
            text = text.replace("\r", "").replace("\n", "")
        control.value = text

    @staticmethod
    def _usable(control: Control) -> None:
        if control.disabled():
            raise FormError(f"#{control.attrs.get('id')} is disabled: a user cannot change it")
        if not control.visible():
            raise FormError(f"#{control.attrs.get('id')} is hidden: a user cannot change it")

    # --- what the browser sends ---------------------------------------------------------
    def entries(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for c in self.controls:
            if not c.name or c.disabled():
                continue
            if c.type in ("submit", "button", "reset", "image", "file"):
                continue
            if c.type in ("radio", "checkbox"):
                if c.checked:
                    pairs.append((c.name, c.attrs.get("value") or "on"))
            elif c.tag == "select":
                pairs.extend((c.name, v) for v in c.selected_values())
            else:
                pairs.append((c.name, c.value))
        return pairs

    def body(self) -> bytes:
        return urlencode(self.entries()).encode()

    def form_data(self) -> dict[str, list[str]]:
        return form_data_from_body(self.body())


def form_data_from_body(
    body: bytes | str, content_type: str = "application/x-www-form-urlencoded"
) -> dict[str, list[str]]:
    """What JupyterHub's SpawnHandler.post passes to `options_from_form` for this POST body
    (urlencoded, or multipart as a script's `fetch` of a FormData sends it)."""
    arguments: dict[str, list[bytes]] = {}
    files: dict = {}
    raw = body.encode() if isinstance(body, str) else body
    parse_body_arguments(content_type, raw, arguments, files)
    data = {key: [b.decode("utf8") for b in values] for key, values in arguments.items()}
    for key, uploads in files.items():  # as JupyterHub does; the profiles forms have none
        data[f"{key}_file"] = uploads
    return data
