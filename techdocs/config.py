"""A repository's mkdocs config, checked before anything runs and rewritten as the config mkdocs gets.

Refused (nothing is built, the error names the key): ``hooks``; plugins or markdown extensions outside
the allowlists (``TECHDOCS_ALLOWED_PLUGINS``, ``TECHDOCS_ALLOWED_MARKDOWN_EXTENSIONS``); Python YAML tags
other than the emoji and slug functions Material's docs use; ``docs_dir``/``site_dir`` outside the
repository; ``INHERIT``; anchors that expand past a size bound. Dropped with a note in the build log, as
Backstage drops them: any other top-level key outside Backstage's allowlist (``extra_javascript``…) and
theme keys other than Backstage's (``custom_dir``…).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.conf import settings

MAX_CONFIG_BYTES = 256 * 1024
MAX_NODES = 20_000

# Backstage's allowlist of top-level keys (techdocs-node's generator), less the ones it drops.
ALLOWED_KEYS = frozenset({
    "site_name", "site_url", "site_description", "site_author", "repo_url", "repo_name", "edit_uri",
    "edit_uri_template", "docs_dir", "site_dir", "nav", "exclude_docs", "not_in_nav", "theme", "plugins",
    "markdown_extensions", "extra", "extra_css", "use_directory_urls", "strict", "dev_addr", "watch",
    "copyright", "remote_branch", "remote_name", "validation", "google_analytics",
})  # fmt: skip
ALLOWED_THEME_KEYS = frozenset({"name", "font", "icon", "logo", "favicon", "language", "direction", "palette",
                                "features"})  # fmt: skip
ALLOWED_PYTHON_NAMES = frozenset({
    "materialx.emoji.twemoji", "materialx.emoji.to_svg", "material.extensions.emoji.twemoji",
    "material.extensions.emoji.to_svg", "pymdownx.slugs.slugify", "pymdownx.superfences.fence_code_format",
})  # fmt: skip
REFUSED_KEYS = {
    "hooks": "runs Python from the repository",
    "INHERIT": "reads another config file from the filesystem",
}
# Options of allowed extensions that read files or the network.
REFUSED_EXTENSION_OPTIONS = {
    "pymdownx.snippets": {"url_download", "url_request_headers", "base_path", "restrict_base_path"},
}


class ConfigError(Exception):
    """The repository's mkdocs config is refused; the message names the file, line and key."""


@dataclass(frozen=True)
class Tagged:
    """A custom YAML tag kept as written (``!ENV``, ``!relative``, ``!!python/name:<allowed>``)."""

    tag: str
    value: Any


@dataclass
class CheckedConfig:
    config: dict
    docs_dir: str
    notes: list[str] = field(default_factory=list)


class _Loader(yaml.SafeLoader):
    """Safe loading plus custom tags kept as ``Tagged``; Python tags outside the allowlist are refused."""


def _custom_tag(loader: _Loader, suffix: str, node: yaml.Node) -> Tagged:
    tag = node.tag
    if tag.startswith("tag:yaml.org,2002:python/"):
        name = tag.removeprefix("tag:yaml.org,2002:python/")
        if not (name.startswith("name:") and name[5:] in ALLOWED_PYTHON_NAMES):
            mark = node.start_mark
            raise ConfigError(f"line {mark.line + 1}: the YAML tag !!python/{name} is not allowed")
        return Tagged(tag, loader.construct_scalar(node))  # type: ignore[arg-type]
    if tag == "!include":
        raise ConfigError(f"line {node.start_mark.line + 1}: !include (monorepo docs) is not supported")
    if isinstance(node, yaml.ScalarNode):
        return Tagged(tag, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return Tagged(tag, loader.construct_sequence(node, deep=True))
    return Tagged(tag, loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _custom_tag)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _custom_tag)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: _Dumper, value: Tagged) -> yaml.Node:
    if isinstance(value.value, dict):
        return dumper.represent_mapping(value.tag, value.value)
    if isinstance(value.value, list):
        return dumper.represent_sequence(value.tag, value.value)
    return dumper.represent_scalar(value.tag, str(value.value))


_Dumper.add_representer(Tagged, _represent_tagged)


def _count_nodes(node: yaml.Node, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError(f"the config expands to more than {MAX_NODES} YAML nodes (anchors and aliases?)")
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _count_nodes(item, budget)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _count_nodes(key, budget)
            _count_nodes(value, budget)


def load(data: bytes, name: str) -> dict:
    """Parse a mkdocs config safely; ``ConfigError`` says what is wrong and where."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{name} is {len(data)} bytes; the limit is {MAX_CONFIG_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8 text") from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _count_nodes(node, [MAX_NODES])
        config = loader.construct_document(node)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{name}: nested too deeply") from None
    finally:
        loader.dispose()
    if not isinstance(config, dict):
        raise ConfigError(f"{name}: the config is not a mapping")
    return config


def _names(entries: Any, what: str, name: str) -> list[tuple[str, Any]]:
    """``plugins``/``markdown_extensions`` as (name, options) pairs, from a list or a mapping."""
    if entries is None:
        return []
    if isinstance(entries, dict):
        return [(str(key), value) for key, value in entries.items()]
    if not isinstance(entries, list):
        raise ConfigError(f"{name}: {what} must be a list")
    pairs = []
    for entry in entries:
        if isinstance(entry, str):
            pairs.append((entry, None))
        elif isinstance(entry, dict) and len(entry) == 1:
            key, value = next(iter(entry.items()))
            pairs.append((str(key), value))
        else:
            raise ConfigError(f"{name}: {what} entry {entry!r} is not a name or a one-key mapping")
    return pairs


def _inside(path: Any, key: str, name: str) -> str:
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{name}: {key} must be a relative path")
    clean = posixpath.normpath(path.strip())
    if posixpath.isabs(clean) or clean == ".." or clean.startswith("../") or clean == ".":
        raise ConfigError(f"{name}: {key} {path!r} is outside the repository's docs folder")
    return clean


def check(config: dict, name: str) -> CheckedConfig:
    """Refuse what may run code or read outside the repository; return the config mkdocs will get."""
    for key, why in REFUSED_KEYS.items():
        if key in config:
            raise ConfigError(f"{name}: '{key}' is not allowed: it {why}")
    notes: list[str] = []
    dropped = sorted(str(key) for key in config if key not in ALLOWED_KEYS)
    if dropped:
        notes.append(f"{name}: ignored keys outside the allowlist: {', '.join(dropped)}")
    clean = {key: value for key, value in config.items() if key in ALLOWED_KEYS}

    docs_dir = _inside(clean.get("docs_dir", "docs"), "docs_dir", name)
    if "site_dir" in clean:
        _inside(clean.pop("site_dir"), "site_dir", name)  # Callboard chooses the output folder

    allowed_plugins = {p.strip() for p in settings.TECHDOCS_ALLOWED_PLUGINS}
    plugins = _names(clean.get("plugins"), "plugins", name)
    for plugin, _options in plugins:
        if plugin not in allowed_plugins:
            allowed = ", ".join(sorted(allowed_plugins))
            raise ConfigError(f"{name}: plugin {plugin!r} is not allowed (TECHDOCS_ALLOWED_PLUGINS: {allowed})")
    if not any(plugin == "techdocs-core" for plugin, _ in plugins):
        plugins.insert(0, ("techdocs-core", None))
    clean["plugins"] = [plugin if options is None else {plugin: options} for plugin, options in plugins]

    allowed_extensions = {e.strip() for e in settings.TECHDOCS_ALLOWED_MARKDOWN_EXTENSIONS}
    extensions = _names(clean.get("markdown_extensions"), "markdown_extensions", name)
    for extension, options in extensions:
        if ":" in extension or extension not in allowed_extensions:
            raise ConfigError(
                f"{name}: markdown extension {extension!r} is not allowed (TECHDOCS_ALLOWED_MARKDOWN_EXTENSIONS)"
            )
        refused = REFUSED_EXTENSION_OPTIONS.get(extension, set()) & set(options or {})
        if refused:
            raise ConfigError(f"{name}: option {sorted(refused)[0]!r} of {extension} is not allowed")
    if extensions:
        clean["markdown_extensions"] = [ext if opts is None else {ext: opts} for ext, opts in extensions]

    theme = clean.get("theme")
    if isinstance(theme, dict):
        theme_dropped = sorted(str(key) for key in theme if key not in ALLOWED_THEME_KEYS)
        if theme_dropped:
            notes.append(f"{name}: ignored theme keys: {', '.join(theme_dropped)}")
        clean["theme"] = {key: value for key, value in theme.items() if key in ALLOWED_THEME_KEYS}
    elif theme is not None and not isinstance(theme, str):
        raise ConfigError(f"{name}: theme must be a name or a mapping")
    for key in ("extra_css",):
        for path in clean.get(key) or []:
            if isinstance(path, str) and ("://" in path or path.startswith("/")):
                raise ConfigError(f"{name}: {key} entry {path!r} must be a file inside the docs folder")
    clean["docs_dir"] = docs_dir
    return CheckedConfig(clean, docs_dir, notes)


def dump(config: dict) -> str:
    return yaml.dump(config, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def default_config(site_name: str) -> dict:
    """Backstage's config for a repository with docs but no mkdocs file."""
    return {"site_name": site_name or "Documentation Site", "docs_dir": "docs", "plugins": ["techdocs-core"]}
