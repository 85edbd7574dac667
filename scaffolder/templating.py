"""``${{ … }}`` expressions with Backstage's (Nunjucks) semantics, on Jinja2's sandbox.

What follows Backstage (docs/scaffolder.md has the full list):
- a string that is exactly one ``${{ expr }}`` keeps the value's type (list, object, number, boolean);
  when it is undefined the value is ``UNDEFINED`` (the key is dropped, as JSON drops ``undefined``);
- everything else renders to text the way JavaScript prints values: ``true``/``false``, nothing for
  undefined and null, ``a,b`` for arrays; looking a name up on an undefined value is undefined, not an error;
- filters ``parseRepoUrl``, ``projectSlug``, ``parseEntityRef``, ``pick``, ``dump`` (JSON.stringify), with
  Jinja's built-ins beside them.

Where Callboard is stricter than Backstage: a failing expression is an error naming the text, not the raw
string passed on; attributes starting with ``_`` and other unsafe lookups raise ``TemplateError``; output,
repetition and ``range`` are bounded and rendering has a time limit.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from catalog.ingestion.refs import RefError, parse_ref

MAX_OUTPUT_CHARS = 1_000_000  # one rendered string
MAX_SEQUENCE = 100_000  # 'x' * n, [a] * n, range(n)
MAX_SECONDS = 5.0  # one rendering
_SINGLE = re.compile(r"^\s*\$\{\{((?:(?!\}\}|\$\{\{).)*)\}\}\s*$", re.DOTALL)


class TemplateError(Exception):
    """An expression that could not be rendered; the message names the text and the reason."""


class _Undefined:
    """A whole-string expression that evaluated to undefined: the key is dropped from its object."""

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED = _Undefined()


# --- Backstage's filters -------------------------------------------------------------------------
def parse_repo_url(value: Any) -> dict[str, str]:
    """``github.com?owner=o&repo=r`` → ``{host, owner, repo, …}``; the keys a host needs must be there."""
    if not isinstance(value, str) or not value:
        raise TemplateError(f"parseRepoUrl needs a string like 'github.com?owner=o&repo=r', got {value!r}")
    host, _, query = value.partition("?")
    if not host or "/" in host:
        raise TemplateError(f"Invalid repo URL {value!r}: no host")
    params = {k: v[0] for k, v in parse_qs(query).items() if v}
    result = {"host": host}
    for key in ("owner", "organization", "workspace", "project", "repo"):
        if params.get(key):
            result[key] = params[key]
    gitlab = host.lower() in {h.lower() for h in getattr(settings, "CATALOG_GITLAB_HOSTS", [])} or "gitlab" in host
    needed = ["repo"] if gitlab and "project" in result else ["owner", "repo"]
    if "bitbucket.org" in host:
        needed = ["workspace", "project", "repo"]
    missing = [key for key in needed if key not in result]
    if missing:
        raise TemplateError(f"Invalid repo URL {value!r}: missing {', '.join(missing)}")
    return result


def project_slug(value: Any) -> str:
    parsed = parse_repo_url(value)
    return f"{parsed.get('owner') or parsed.get('project', '')}/{parsed['repo']}"


def parse_entity_ref(value: Any, context: Any = None) -> dict[str, str]:
    options = context if isinstance(context, dict) else {}
    try:
        ref = parse_ref(
            value,
            default_kind=options.get("defaultKind"),
            default_namespace=options.get("defaultNamespace") or "default",
        )
    except RefError as exc:
        raise TemplateError(str(exc)) from exc
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


def pick(value: Any, path: str) -> Any:
    for part in str(path).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _plain(value: Any) -> Any:
    """The JSON-able form of a rendered value (Undefined inside containers becomes null, as JSON does)."""
    if isinstance(value, Undefined) or value is UNDEFINED:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not isinstance(v, Undefined)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def dump(value: Any, indent: Any = None) -> str:
    """Nunjucks' ``dump``: JSON.stringify (compact unless ``indent``); undefined dumps to nothing."""
    if isinstance(value, Undefined):
        return ""
    if indent:
        return json.dumps(_plain(value), ensure_ascii=False, indent=int(indent) if str(indent).isdigit() else indent)
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def js_text(value: Any) -> str:
    """How JavaScript prints a value into text."""
    if value is None or isinstance(value, Undefined) or value is UNDEFINED:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(js_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    if callable(value):
        return "[function]"
    return str(value)


# --- the sandbox ---------------------------------------------------------------------------------
class _Deadline(threading.local):
    at: float = 0.0


_deadline = _Deadline()


def _check_time() -> None:
    if _deadline.at and time.monotonic() > _deadline.at:
        raise TemplateError(f"Rendering took longer than {MAX_SECONDS:g} s")


class _BoundedRange:
    """``range`` bounded in length that checks the time limit as it is iterated."""

    def __init__(self, *args: int):
        self._range = range(*args)
        if len(self._range) > MAX_SEQUENCE:
            raise TemplateError(f"range() of {len(self._range)} items; the limit is {MAX_SEQUENCE}")

    def __iter__(self) -> Iterator[int]:
        for number in self._range:
            _check_time()
            yield number

    def __len__(self) -> int:
        return len(self._range)


class BackstageEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+"})

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``a.b`` on an object (a dict) is its key, as in JavaScript, never a dict method such as ``items``."""
        if isinstance(obj, dict):
            _check_time()
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        _check_time()
        return super().is_safe_attribute(obj, attr, value) and not attr.startswith(("mro", "func_", "gi_", "cr_"))

    def call(__self, __context, __obj, *args, **kwargs):
        _check_time()
        return SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(count, int)
                    and len(seq) * count > MAX_OUTPUT_CHARS
                ):
                    raise TemplateError(f"Repeating a sequence {count} times exceeds the size limit")
            return operator.mul(left, right)
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > 100:
                raise TemplateError("Exponents above 100 are not allowed")
            return operator.pow(left, right)
        if isinstance(left, str) or isinstance(right, str):  # JavaScript's + joins text with anything
            result = js_text(left) + js_text(right)
            if len(result) > MAX_OUTPUT_CHARS:
                raise TemplateError("Joined text exceeds the size limit")
            return result
        return operator.add(left, right)


@functools.cache
@functools.lru_cache(maxsize=16)
def _make_env(start: str, end: str, *, jsonify: bool = False, trim: bool = False, lstrip: bool = False):
    env = BackstageEnvironment(
        variable_start_string=start,
        variable_end_string=end,
        trim_blocks=trim,
        lstrip_blocks=lstrip,
        autoescape=False,
        undefined=ChainableUndefined,
        finalize=js_text,
        keep_trailing_newline=True,
    )
    env.filters.update(
        parseRepoUrl=parse_repo_url,
        projectSlug=project_slug,
        parseEntityRef=parse_entity_ref,
        pick=pick,
        dump=dump,
    )
    if jsonify:
        env.filters["jsonify"] = dump
    env.globals = {"range": _BoundedRange, "cycler": env.globals["cycler"], "joiner": env.globals["joiner"],
                   "dict": dict, "null": None, "undefined": ChainableUndefined()}  # fmt: skip
    return env


_ENV = _make_env("${{", "}}")


@contextmanager
def _limits() -> Iterator[None]:
    """The time limit: checked in the sandbox's hooks; in the main thread also enforced by SIGALRM."""
    outer = _deadline.at
    _deadline.at = time.monotonic() + MAX_SECONDS
    use_alarm = (  # never when someone else's timer or SIGALRM handler is in place
        threading.current_thread() is threading.main_thread()
        and not outer
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    )
    previous = None
    if use_alarm:

        def on_alarm(signum, frame):
            raise TemplateError(f"Rendering took longer than {MAX_SECONDS:g} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS + 0.5)
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _deadline.at = outer


# Compiling is most of a small rendering's cost, and a template renders the same texts for every task: the
# compiled forms are kept (per environment; the environments themselves are cached above). Compiling runs
# inside the limits, so a hostile text fails the same way whether cached or not; failures are not cached.
@functools.lru_cache(maxsize=2048)
def _compiled(env, text: str):
    return env.from_string(text)


@functools.lru_cache(maxsize=2048)
def _compiled_expression(expression: str):
    return _ENV.compile_expression(js_equality(expression), undefined_to_none=False)


_STRICT_EQUALITY = re.compile(r"""('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")|([!=])==""")


def js_equality(expression: str) -> str:
    """Nunjucks' ``===`` and ``!==`` (e.g. ``parameters.dryRun !== true``) as ``==``/``!=``; strings untouched."""
    return _STRICT_EQUALITY.sub(lambda m: m.group(1) or m.group(2) + "=", expression)


def _fail(text: str, exc: Exception) -> TemplateError:
    shown = text if len(text) <= 120 else text[:117] + "..."
    reason = exc.message if isinstance(exc, TemplateSyntaxError) and exc.message else str(exc)
    return TemplateError(f"Cannot render {shown!r}: {reason}")


def render_text(
    text: str, context: dict[str, Any], *, cookiecutter: bool = False, trim: bool = False, lstrip: bool = False
) -> str:
    """Render ``text`` to a string (skeleton files, file names, text with expressions inside).

    ``trim``/``lstrip``: Nunjucks' ``trimBlocks``/``lstripBlocks`` (fetch:template's inputs)."""
    if cookiecutter:
        env = _make_env("{{", "}}", jsonify=True, trim=trim, lstrip=lstrip)
    else:
        env = _make_env("${{", "}}", trim=trim, lstrip=lstrip) if trim or lstrip else _ENV
    if (env.variable_start_string not in text and "{%" not in text and "{#" not in text) or not text:
        return text
    try:
        with _limits():
            template = _compiled(env, text)
            size = 0
            parts = []
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateError(f"the result is longer than {MAX_OUTPUT_CHARS} characters")
                parts.append(chunk)
            return "".join(parts)
    except TemplateError as exc:
        raise _fail(text, exc) from None
    except (SecurityError, UndefinedError, TemplateSyntaxError, TypeError, ValueError, ArithmeticError) as exc:
        raise _fail(text, exc) from None
    except (AttributeError, KeyError, IndexError, RecursionError, MemoryError) as exc:
        raise _fail(text, exc) from None


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The value of one expression (the part inside ``${{ }}``), with its type kept."""
    try:
        with _limits():
            compiled = _compiled_expression(expression)
            value = compiled(**context)
    except TemplateError as exc:
        raise _fail("${{" + expression + "}}", exc) from None
    except Exception as exc:
        raise _fail("${{" + expression + "}}", exc) from None
    if isinstance(value, Undefined):
        return UNDEFINED
    return _plain(value)


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string leaf of ``value``; a string that is one expression keeps its type."""
    if isinstance(value, str):
        match = _SINGLE.match(value)
        if match:
            return evaluate(match.group(1), context)
        return render_text(value, context)
    if isinstance(value, dict):
        rendered = {key: render_value(item, context) for key, item in value.items()}
        return {key: item for key, item in rendered.items() if item is not UNDEFINED}
    if isinstance(value, list):
        return [None if (item := render_value(v, context)) is UNDEFINED else item for v in value]
    return value


def is_truthy(value: Any) -> bool:
    """Backstage's test for ``if``: false, null/undefined, "", 0 and [] are false."""
    if value is UNDEFINED or value is None or value is False or value == "" or value == 0:
        return False
    return not (isinstance(value, (list, dict)) and not value)


def check_syntax(text: str) -> None:
    """Raise TemplateError when ``text`` does not parse (used to report template errors early)."""
    try:
        _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise _fail(text, exc) from None


__all__ = [
    "UNDEFINED",
    "TemplateError",
    "check_syntax",
    "dump",
    "evaluate",
    "is_truthy",
    "js_text",
    "parse_entity_ref",
    "parse_repo_url",
    "pick",
    "project_slug",
    "render_text",
    "render_value",
]
