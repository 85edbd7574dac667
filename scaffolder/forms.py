"""A template's ``spec.parameters`` as a multi-step web form: fields from JSON Schema, read back from a POST,
checked page by page.

Each page is a JSON Schema object (``required``, ``properties``, ``dependencies``, ``if``/``then``/``else``,
``allOf``, ``oneOf``) with Backstage's ``ui:*`` hints. Conditional parts are resolved against the values
entered so far, so a field appears once its condition holds (the page is drawn again on change).
Values travel between steps in one hidden field (``state``) *without* the secret fields: those stay in
the browser's own inputs until the final POST, and are never written into the HTML.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from django.http import QueryDict

from scaffolder import pickers, service
from scaffolder.secrets import Masker

# Backstage's EntityNamePicker (KubernetesValidatorFunctions.isValidObjectName) and EntityTagsPicker checks.
ENTITY_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
ENTITY_NAME_HINT = "[A-Za-z0-9]([\\-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
ENTITY_NAME_MESSAGE = (
    "Must start and end with an alphanumeric character, and contain only alphanumeric characters, hyphens, "
    "underscores, and periods. Maximum length is 63 characters."
)
TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
TAG_MESSAGE = "Tags must be lower-case letters, digits and : + # separated by single dashes, at most 63 characters."
SECRET_MASK = "••••••"  # noqa: S105 (what the review shows instead of a secret)
ENTITY_PICKERS = {"EntityPicker", "OwnedEntityPicker", "MyGroupsPicker"}
BRANCH_HELP = "The name of a branch of the repository, e.g. main."


@dataclass
class Field:
    """One input (or, for an object, a group of them). ``path`` names the value inside the values object."""

    path: tuple[str, ...]
    schema: dict[str, Any]
    widget: str
    title: str
    required: bool = False
    description: str = ""
    help: str = ""
    value: Any = None
    choices: list[pickers.Choice] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    secret: bool = False
    refreshes: bool = False
    children: list[Field] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # RepoUrlPicker
    repo: dict[str, Any] = field(default_factory=dict)  # RepoUrlPicker: host, parts, and how each is asked

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def input_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)

    @property
    def options(self) -> dict[str, Any]:
        options = self.schema.get("ui:options")
        return options if isinstance(options, dict) else {}

    def flat(self) -> list[Field]:
        return [f for child in self.children for f in child.flat()] if self.widget == "object" else [self]

    @property
    def text(self) -> str:
        """The value as the input shows it (never a secret: those are not filled in)."""
        if self.secret:
            return ""
        if self.widget == "json":
            return "" if self.value is None else json.dumps(self.value, indent=2, ensure_ascii=False)
        if isinstance(self.value, list):
            return ("\n" if self.widget == "lines" else ", ").join(_text(v) for v in self.value)
        return _text(self.value)

    @property
    def selected(self) -> set[str]:
        return {_text(v) for v in (self.value if isinstance(self.value, list) else [self.value])}

    @property
    def arbitrary(self) -> bool:
        """Pickers accept refs not in their list unless ``allowArbitraryValues: false`` (Backstage's default);
        MyGroupsPicker only the person's groups."""
        if self.schema.get("ui:field") == "MyGroupsPicker":
            return False
        return self.options.get("allowArbitraryValues") is not False

    @property
    def other_tags(self) -> str:
        """EntityTagsPicker: the tags not among the suggestions (those are checkboxes), as typed."""
        suggested = {c.value for c in self.choices}
        values = self.value if isinstance(self.value, list) else []
        return ", ".join(_text(v) for v in values if _text(v) not in suggested)


@dataclass
class Page:
    number: int  # 1-based position among the spec's pages
    title: str
    description: str
    schema: dict[str, Any]
    fields: list[Field]
    errors: list[str] = field(default_factory=list)

    def flat(self) -> list[Field]:
        return [f for top in self.fields for f in top.flat()]


# Schema → fields -------------------------------------------------------------------------------------------


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _matches(schema: Any, instance: Any) -> bool:
    if not isinstance(schema, dict):
        return bool(schema)
    try:
        return jsonschema.Draft7Validator(service.strip_ui(schema)).is_valid(instance)
    except jsonschema.SchemaError:
        return False


def _branch_for(branches: list, key: str, value: Any) -> dict[str, Any] | None:
    """The ``dependencies.<key>.oneOf`` branch whose ``properties.<key>`` accepts the value (rjsf's rule)."""
    for branch in branches:
        if isinstance(branch, dict) and _matches((branch.get("properties") or {}).get(key, {}), value):
            return branch
    return None


def resolve(schema: dict[str, Any], values: dict[str, Any]) -> tuple[dict[str, Any], set[str], set[str]]:
    """The properties and required names that apply to ``values``, and the names whose change can alter them.

    Merges ``allOf``, ``if``/``then``/``else`` (a JSON Schema ``if``), ``dependencies`` (a list makes names
    required; a schema, or the ``oneOf`` branch matching the value, adds properties) and a page-level
    ``oneOf``/``anyOf`` (the first branch the values satisfy, else the first)."""
    properties = {k: v for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}
    required = {str(r) for r in schema.get("required") or [] if isinstance(r, str)}
    triggers: set[str] = set()

    def merge(part: Any) -> None:
        if not isinstance(part, dict):
            return
        props, req, trig = resolve(part, values)
        for name, prop in props.items():
            properties[name] = {**properties.get(name, {}), **prop}
        required.update(req)
        triggers.update(trig)

    for part in schema.get("allOf") or []:
        merge(part)
    condition = schema.get("if")
    if isinstance(condition, dict):
        triggers.update((condition.get("properties") or {}).keys())
        merge(schema.get("then") if _matches({"type": "object", **condition}, values) else schema.get("else"))
    for key, dependency in (schema.get("dependencies") or {}).items():
        triggers.add(key)
        if not _present(values.get(key)):
            continue
        if isinstance(dependency, list):
            required.update(str(d) for d in dependency)
        elif isinstance(dependency, dict):
            branches = dependency.get("oneOf")
            if isinstance(branches, list):
                branch = _branch_for(branches, key, values.get(key)) or {}
                others = {n: p for n, p in (branch.get("properties") or {}).items() if n != key}
                merge({**branch, "properties": others})  # the branch's own copy of the field only selects it
            merge({k: v for k, v in dependency.items() if k != "oneOf"})
    for keyword in ("oneOf", "anyOf"):
        branches = [b for b in schema.get(keyword) or [] if isinstance(b, dict)]
        if branches:
            chosen = next((b for b in branches if _matches(b, values)), branches[0])
            for branch in branches:
                triggers.update((branch.get("properties") or {}).keys())
            merge(chosen)
    return properties, required, triggers


def _html_pattern(pattern: str) -> str:
    """A JSON Schema pattern searches; an HTML one must match the whole value."""
    start = "" if pattern.startswith("^") else ".*"
    end = "" if pattern.endswith("$") and not pattern.endswith("\\$") else ".*"
    return f"{start}(?:{pattern}){end}"


def _choices(schema: dict[str, Any]) -> list[pickers.Choice]:
    if isinstance(schema.get("enum"), list):
        names = schema.get("enumNames") if isinstance(schema.get("enumNames"), list) else []
        return [pickers.Choice(_text(v), _text(names[i]) if i < len(names) else _text(v))
                for i, v in enumerate(schema["enum"])]  # fmt: skip
    branches = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(branches, list) and branches and all(isinstance(b, dict) and "const" in b for b in branches):
        return [pickers.Choice(_text(b["const"]), _text(b.get("title") or b["const"])) for b in branches]
    return []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _widget(schema: dict[str, Any]) -> str:
    ui_field, ui_widget = schema.get("ui:field"), schema.get("ui:widget")
    kind = schema.get("type")
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    if ui_field == "Secret" or ui_widget == "password":
        return "password"
    if ui_field == "OwnerPicker":
        return "owner"
    if ui_field in ENTITY_PICKERS:
        return "entity"
    if ui_field == "MultiEntityPicker":
        return "multi_entity"
    if ui_field == "RepoUrlPicker":
        return "repo_url"
    if ui_field == "EntityTagsPicker":
        return "tags"
    if kind == "boolean":
        return "select" if ui_widget == "select" else "radio" if ui_widget == "radio" else "checkbox"
    if kind == "array":
        if _choices(items):
            return "multi_select" if ui_widget == "select" else "checkboxes"
        if items.get("type", "string") in ("string", "number", "integer") and not items.get("properties"):
            return "lines"
        return "json"
    if kind == "object" or (kind is None and "properties" in schema):
        return "object" if schema.get("properties") else "json"
    if _choices(schema):
        return "radio" if ui_widget == "radio" else "select"
    if kind in ("integer", "number"):
        return "number"
    if ui_widget == "textarea":
        return "textarea"
    return "text"


def _attrs(schema: dict[str, Any], widget: str, required: bool) -> dict[str, Any]:
    """HTML checks the browser can make by itself, from the schema."""
    attrs: dict[str, Any] = {}
    if required and widget in ("text", "textarea", "number", "select", "entity", "owner"):
        attrs["required"] = True
    if widget in ("text", "password", "textarea"):
        if isinstance(schema.get("pattern"), str) and widget != "textarea":
            attrs["pattern"] = _html_pattern(schema["pattern"])
        for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
            if isinstance(schema.get(key), int):
                attrs[attr] = schema[key]
        if schema.get("ui:field") == "EntityNamePicker" and "pattern" not in attrs:
            attrs["pattern"] = ENTITY_NAME_HINT
            attrs.setdefault("maxlength", 63)
    if widget == "number":
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if isinstance(schema.get(key), (int, float)) and not isinstance(schema.get(key), bool):
                attrs[attr] = schema[key]
        attrs["step"] = "1" if schema.get("type") == "integer" else "any"
    if isinstance(schema.get("ui:placeholder"), str):
        attrs["placeholder"] = schema["ui:placeholder"]
    if schema.get("ui:autofocus"):
        attrs["autofocus"] = True
    if schema.get("ui:readonly"):
        attrs["readonly"] = True
    if widget == "textarea":
        rows = (schema.get("ui:options") or {}).get("rows") if isinstance(schema.get("ui:options"), dict) else None
        attrs["rows"] = rows if isinstance(rows, int) and 1 <= rows <= 40 else 4
    if schema.get("format") == "email" and widget == "text":
        attrs["type"] = "email"
    elif schema.get("format") == "date" and widget == "text":
        attrs["type"] = "date"
    return attrs


def _get(values: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(values, dict):
            return None
        values = values.get(part)
    return values


def _set(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        nested = values.get(part)
        if not isinstance(nested, dict):
            nested = values[part] = {}
        values = nested
    if value is None:
        values.pop(path[-1], None)
    else:
        values[path[-1]] = value


class FormBuilder:
    """Builds pages for one person (pickers list what they may read); picker choices are read once each."""

    def __init__(self, spec: dict[str, Any], user, values: dict[str, Any], seen: set[str]):
        self.spec = spec
        self.user = user
        self.values = values
        self.seen = seen
        self.secret_names = service.secret_fields(spec)
        self._choices_cache: dict[str, list[pickers.Choice]] = {}

    def pages(self) -> list[Page]:
        pages = []
        for number, page in service.applicable_pages(self.spec, self.values):
            fields = self._fields(page, (), self.values)
            title = str(page.get("title") or "Please enter the following information")
            pages.append(Page(number, title, str(page.get("description") or ""), service.page_schema(page), fields))
        refs = {str(f) for p in self.spec.get("parameters") or [] if isinstance(p, dict)
                for f in re.findall(r"parameters\.(\w+)", str(p.get("if") or ""))}  # fmt: skip
        for page in pages:
            for f in page.flat():
                f.refreshes = f.refreshes or (len(f.path) == 1 and f.path[0] in refs)
        return pages

    def _fields(self, schema: dict[str, Any], prefix: tuple[str, ...], values: Any) -> list[Field]:
        properties, required, triggers = resolve(schema, values if isinstance(values, dict) else {})
        order = schema.get("ui:order") if isinstance(schema.get("ui:order"), list) else []
        names = [n for n in order if n in properties] + [n for n in properties if n not in order]
        return [self._field((*prefix, name), properties[name], name in required, name in triggers)
                for name in names]  # fmt: skip

    def _field(self, path: tuple[str, ...], schema: dict[str, Any], required: bool, refreshes: bool) -> Field:
        widget = _widget(schema)
        secret = widget == "password" or (len(path) == 1 and path[0] in self.secret_names)
        name = ".".join(path)
        if name not in self.seen and not secret:
            if "default" in schema and _get(self.values, path) is None:
                _set(self.values, path, schema["default"])
            self.seen.add(name)
        item = Field(
            path=path,
            schema=schema,
            widget="password" if secret else widget,
            title=str(schema.get("title") or path[-1]),
            required=required,
            description=str(schema.get("description") or ""),
            help=str(schema.get("ui:help") or ""),
            value=None if secret else _get(self.values, path),
            secret=secret,
            refreshes=refreshes,
        )
        item.attrs = _attrs(schema, item.widget, required)
        if item.widget == "object":
            item.children = self._fields(schema, path, _get(self.values, path))
        elif item.widget in ("select", "radio"):
            item.choices = _choices(schema) or [pickers.Choice("true", "Yes"), pickers.Choice("false", "No")]
        elif item.widget in ("checkboxes", "multi_select"):
            item.choices = _choices(schema.get("items") or {})
        elif schema.get("ui:field") == "MyGroupsPicker":
            item.choices = self._cached("my-groups", lambda: pickers.my_groups(self.user))
        elif item.widget in ("owner", "entity", "multi_entity"):
            item.choices = self._entity_choices(item)
        elif item.widget == "tags":
            key = json.dumps(["tags", item.options.get("kinds")], default=str)
            tags = self._cached(key, lambda: pickers.tag_suggestions(self.user, item.options))
            item.choices = [pickers.Choice(t, t) for t in tags]
        elif schema.get("ui:field") == "RepoBranchPicker" and not item.help:
            item.help = BRANCH_HELP
        elif item.widget == "repo_url":
            self._repo(item)
        return item

    def _cached(self, key: str, read) -> list:
        if key not in self._choices_cache:
            self._choices_cache[key] = read()
        return self._choices_cache[key]

    def _entity_choices(self, item: Field) -> list[pickers.Choice]:
        kinds = pickers.OWNER_KINDS if item.widget == "owner" else None
        key = json.dumps([item.options, kinds], sort_keys=True, default=str)
        return self._cached(key, lambda: pickers.entity_choices(self.user, item.options, kinds))

    def _repo(self, item: Field) -> None:
        options = item.options
        item.hosts = pickers.repo_hosts(options)
        host, parts = pickers.parse_repo_url(item.value)
        host = host or (item.hosts[0] if item.hosts else "")
        owners = [str(o) for o in options.get("allowedOwners") or [] if isinstance(o, (str, int))]
        repos = [str(r) for r in options.get("allowedRepos") or [] if isinstance(r, (str, int))]
        asked = [{"key": key, "label": key.capitalize(), "value": parts.get(key, ""),
                  "choices": owners if key == "owner" else []} for key in pickers.host_parts(host)]  # fmt: skip
        asked.append({"key": "repo", "label": "Repository", "value": parts.get("repo", ""), "choices": repos})
        item.repo = {"host": host, "asked": asked}


def build_pages(spec: dict[str, Any], user, values: dict[str, Any], seen: set[str]) -> list[Page]:
    """The pages that apply to ``values`` (defaults filled in for fields shown the first time)."""
    return FormBuilder(spec, user, values, seen).pages()


# POST → values -----------------------------------------------------------------------------------------------


def _number(text: str, schema: dict[str, Any]) -> int | float:
    number = float(text)
    if schema.get("type") == "integer":
        if not number.is_integer():
            raise ValueError
        return int(number)
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def _typed(text: str, schema: dict[str, Any]) -> Any:
    """A choice's text back to the enum's value (numbers and booleans keep their type)."""
    for option in schema.get("enum") or [c.get("const") for c in schema.get("oneOf") or [] if isinstance(c, dict)]:
        if _text(option) == text:
            return option
    if schema.get("type") == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text


def read_field(item: Field, post: QueryDict) -> tuple[Any, str]:
    """The field's value from the POST (None: absent) and a message when it cannot be read.

    Nothing typed is absent (so ``required`` catches it); a checkbox list left empty is ``[]``, as rjsf
    sends it."""
    name, schema, widget = item.name, item.schema, item.widget
    text = post.get(name, "")
    if widget == "checkbox":
        return name in post, ""
    if widget in ("checkboxes", "multi_select"):
        return [_typed(v, schema.get("items") or {}) for v in post.getlist(name)], ""
    if widget == "multi_entity":
        typed = [v for line in post.getlist(name + ".other") for v in re.split(r"[\s,]+", line) if v]
        refs = [*post.getlist(name), *(pickers.entity_value(v, item.options) for v in typed)]
        return list(dict.fromkeys(r for r in refs if r)) or None, ""
    if widget == "lines":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        try:
            return [_number(v, items) if items.get("type") in ("integer", "number") else v for v in lines] or None, ""
        except ValueError:
            return None, "Each line must be a number."
    if widget == "tags":
        typed = [t for t in re.split(r"[\s,]+", text.strip()) if t]
        return list(dict.fromkeys([*post.getlist(name + ".suggested"), *typed])) or None, ""
    if widget == "repo_url":
        host = post.get(name + ".host", "")
        parts = {key: post.get(f"{name}.{key}", "").strip() for key in pickers.REPO_PARTS}
        return (pickers.serialize_repo_url(host, parts) or None), ""
    if widget == "json":
        if not text.strip():
            return None, ""
        try:
            return json.loads(text), ""
        except ValueError as exc:
            return None, f"Not valid JSON: {exc}"
    if widget in ("owner", "entity"):
        options = {"defaultKind": "Group", **item.options} if widget == "owner" else item.options
        return (pickers.entity_value(text, options) or None), ""
    if not text.strip() if widget != "password" else not text:
        return None, ""
    if widget == "number":
        try:
            return _number(text.strip(), schema), ""
        except ValueError:
            return None, "Must be a number." if schema.get("type") != "integer" else "Must be a whole number."
    if widget in ("select", "radio"):
        return _typed(text, schema), ""
    return text, ""


def read_page(page: Page, post: QueryDict, values: dict[str, Any]) -> dict[str, str]:
    """Copy the page's non-secret fields from the POST into ``values``; messages for unreadable ones."""
    problems = {}
    for item in page.flat():
        if item.secret:
            continue
        value, problem = read_field(item, post)
        if problem:
            problems[item.name] = problem
        else:
            _set(values, item.path, value)
    return problems


def read_secrets(pages: list[Page], post: QueryDict) -> dict[str, Any]:
    """Secret fields of every page, as the browser sent them (never stored in the state)."""
    secrets: dict[str, Any] = {}
    for page in pages:
        for item in page.flat():
            if item.secret and post.get(item.name):
                _set(secrets, item.path, post[item.name])
    return secrets


def without_secrets(values: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    public = json.loads(json.dumps(values))
    for page in pages:
        for item in page.flat():
            if item.secret:
                _set(public, item.path, None)
    return public


def merged(values: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    everything = json.loads(json.dumps(values))
    for name, value in secrets.items():
        if isinstance(value, dict):
            for inner, leaf in value.items():
                _set(everything, (name, inner), leaf)
        else:
            everything[name] = value
    return everything


def only_shown(values: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    """The values of fields on pages that apply: a field hidden again by its condition is not sent."""
    shown = {f.path[0] for page in pages for f in page.fields}
    return {k: v for k, v in values.items() if k in shown}


# Checks -----------------------------------------------------------------------------------------------------


def _friendly(error: service.SchemaError) -> str:
    if error.validator == "required":
        return "Required."
    if error.validator == "pattern":
        return f"Must match the pattern {error.message.rsplit(' does not match ', 1)[-1]}."
    return error.message[:1].upper() + error.message[1:] + ("" if error.message.endswith(".") else ".")


def _widget_problems(item: Field, value: Any) -> list[str]:
    """The checks Backstage's field extensions make in the browser."""
    if item.schema.get("ui:field") == "EntityNamePicker" and isinstance(value, str) and value:
        return [] if ENTITY_NAME.match(value) else [ENTITY_NAME_MESSAGE]
    if item.widget == "tags" and isinstance(value, list):
        bad = [t for t in value if not (isinstance(t, str) and len(t) <= 63 and TAG.match(t))]
        return [f"{TAG_MESSAGE} Not valid: {', '.join(map(str, bad))}."] if bad else []
    if item.widget == "repo_url" and isinstance(value, str) and value:
        host, parts = pickers.parse_repo_url(value)
        missing = [k for k in [*pickers.host_parts(host), "repo"] if not parts.get(k)]
        problems = [f"Incomplete repository location provided, {k} not provided." for k in missing]
        if item.hosts and host not in item.hosts:
            problems.append(f"The host {host} is not one of {', '.join(item.hosts)}.")
        for key, option in (("owner", "allowedOwners"), ("repo", "allowedRepos")):
            allowed = [str(a) for a in item.options.get(option) or []]
            if allowed and parts.get(key) and parts[key] not in allowed:
                problems.append(f"{parts[key]} is not one of the allowed {key}s: {', '.join(allowed)}.")
        return problems
    if item.widget in ("owner", "entity", "multi_entity") and not item.arbitrary:
        known = {c.value for c in item.choices}
        chosen = value if isinstance(value, list) else [value] if value else []
        unknown = [v for v in chosen if v not in known]
        return [f"Choose from the list: {', '.join(map(str, unknown))} is not one of the choices."] if unknown else []
    return []


def check_page(page: Page, values: dict[str, Any], secrets: dict[str, Any], problems: dict[str, str]) -> bool:
    """Validate ``values`` (secrets included) against the page, as ``service.validate_request`` does, and
    with the field extensions' own checks; put each message at its field (else on the page). True if fine."""
    everything = merged(values, secrets)
    masker = Masker({}, secrets)
    by_name = {f.name: f for f in page.flat()}
    page.errors = []
    for f in by_name.values():
        f.errors = [problems[f.name]] if f.name in problems else []
    for error in service.schema_errors(page.schema, everything):
        target = _closest(by_name, error.path)
        message = masker.text(_friendly(error) if target else error.message)
        if target is None:
            page.errors.append(message)
        elif message not in target.errors:
            target.errors.append(message)
    for f in by_name.values():
        if not f.secret and not f.errors:  # one kind of message at a time: the schema's first
            f.errors += _widget_problems(f, _get(everything, f.path))
    return not page.errors and not any(f.errors for f in by_name.values())


def _closest(by_name: dict[str, Field], path: tuple[str, ...]) -> Field | None:
    for end in range(len(path), 0, -1):
        found = by_name.get(".".join(path[:end]))
        if found is not None:
            return found
    return None


# Review -----------------------------------------------------------------------------------------------------


def display(item: Field, values: dict[str, Any]) -> str:
    value = _get(values, item.path)
    if item.secret:
        return SECRET_MASK
    review = item.schema.get("ui:backstage") if isinstance(item.schema.get("ui:backstage"), dict) else {}
    if isinstance(review.get("review"), dict) and review["review"].get("mask"):
        return str(review["review"]["mask"])
    labels = {c.value: c.label for c in item.choices}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(labels.get(_text(v), _text(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return labels.get(_text(value), _text(value))


def review_rows(pages: list[Page], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Per page, (title, value) rows for the review step; secrets masked, ``review.show: false`` left out."""
    rows = []
    for page in pages:
        items = []
        for item in page.flat():
            review = item.schema.get("ui:backstage") if isinstance(item.schema.get("ui:backstage"), dict) else {}
            if isinstance(review.get("review"), dict) and review["review"].get("show") is False:
                continue
            if item.secret or _get(values, item.path) is not None:
                items.append({"title": item.title, "value": display(item, values), "secret": item.secret})
        rows.append({"title": page.title, "items": items})
    return rows


# State between steps -------------------------------------------------------------------------------------------


def load_state(text: str) -> tuple[dict[str, Any], set[str]]:
    """The ``state`` hidden field: ``{"values": {...}, "seen": [...]}``; anything else is a fresh start."""
    try:
        state = json.loads(text or "{}")
    except ValueError:
        return {}, set()
    if not isinstance(state, dict):
        return {}, set()
    values = state.get("values") if isinstance(state.get("values"), dict) else {}
    seen = {s for s in state.get("seen") or [] if isinstance(s, str)} if isinstance(state.get("seen"), list) else set()
    return values, seen


def dump_state(values: dict[str, Any], seen: set[str], pages: list[Page]) -> str:
    return json.dumps({"values": without_secrets(values, pages), "seen": sorted(seen)}, ensure_ascii=False)
