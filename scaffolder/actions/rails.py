"""fetch:rails: fetch a skeleton, run ``rails new`` on it with arguments built from ``values.railsArguments``
(Backstage's railsArgumentResolver) and put the generated application in the workspace.

A Rails template (``--template``) and the generators run arbitrary Ruby, so ``rails new`` runs in the portal's
sandbox (``portal/sandbox.py``): a clean environment, rlimits, a timeout, no network and a read-only file
system but for its work dir. It never installs anything (``--skip-bundle`` and ``--skip-webpack-install``
are always passed), a template must be a file of the fetched skeleton, and the result is checked before it
is copied: no links, no special files, no git repository (a hostile ``.git/hooks`` would run on publish),
within the size limits of a fetched skeleton. Backstage falls back to Docker (``imageName``) when ``rails``
is not on the PATH; Callboard has no Docker runner, so that is a step error and ``imageName`` is ignored.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from plugins.scaffolder import ScaffolderAction
from portal import sandbox
from scaffolder import sources, workspace
from scaffolder.actions.fetch import _fetch

WEBPACKERS = ["react", "vue", "angular", "elm", "stimulus"]
DATABASES = ["mysql", "postgresql", "sqlite3", "oracle", "sqlserver", "jdbcmysql", "jdbcsqlite3", "jdbcpostgresql",
             "jdbc"]  # fmt: skip
RAILS_VERSIONS = ["dev", "edge", "master", "fromImage"]
# Backstage's flags, in its order: option -> rails new argument.
FLAGS = [
    ("minimal", "--minimal"), ("api", "--api"), ("skipBundle", "--skip-bundle"),
    ("skipWebpackInstall", "--skip-webpack-install"), ("skipActiveRecord", "--skip-active-record"),
    ("skipTest", "--skip-test"), ("skipActionCable", "--skip-action-cable"),
    ("skipActionMailer", "--skip-action-mailer"), ("skipActionMailbox", "--skip-action-mailbox"),
    ("skipActiveStorage", "--skip-active-storage"), ("skipActionText", "--skip-action-text"), ("force", "--force"),
]  # fmt: skip
OFFLINE = ["--skip-bundle", "--skip-webpack-install"]  # nothing is installed: no network, no time limit blown
# rails new runs `git init` (its repository is left out of the result): no advice about the branch name.
GIT_QUIET = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "init.defaultBranch", "GIT_CONFIG_VALUE_0": "main"}
_APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


class RailsError(Exception):
    """``rails new`` could not run, failed, or left something that cannot be copied to the workspace."""


def rails_arguments(project_root: str, options: dict[str, Any] | None) -> list[str]:
    """Backstage's ``railsArgumentResolver``: the ``rails new`` arguments for ``railsArguments``."""
    options = options or {}
    args = [flag for key, flag in FLAGS if options.get(key)]
    if options.get("webpacker") in WEBPACKERS:
        args += ["--webpack", options["webpacker"]]
    if options.get("database") in DATABASES:
        args += ["--database", options["database"]]
    if options.get("railsVersion") in RAILS_VERSIONS and options["railsVersion"] != "fromImage":
        args.append(f"--{options['railsVersion']}")
    if options.get("template"):
        args += ["--template", options["template"].replace("./", project_root + "/", 1)]
    return args


def check_rails_arguments(options: Any, skeleton: Path) -> dict[str, Any]:
    """``railsArguments`` as Backstage's schema types them; a template must be a file of the skeleton."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise RailsError(f"values.railsArguments must be an object, got {type(options).__name__}")
    for key, _ in FLAGS:
        if key in options and not isinstance(options[key], bool):
            raise RailsError(f"values.railsArguments.{key} must be a boolean, got {options[key]!r}")
    for key, allowed in (("webpacker", WEBPACKERS), ("database", DATABASES), ("railsVersion", RAILS_VERSIONS)):
        if options.get(key) is not None and options[key] not in allowed:
            raise RailsError(f"values.railsArguments.{key} must be one of {', '.join(allowed)}, got {options[key]!r}")
    template = options.get("template")
    if template is not None and template != "":
        _check_template(template, skeleton)
    return options


def _check_template(template: Any, skeleton: Path) -> None:
    where = "values.railsArguments.template"
    if not isinstance(template, str):
        raise RailsError(f"{where} must be a string, got {type(template).__name__}")
    if template.startswith("-"):
        raise RailsError(f"{where} {template!r} starts with '-'; it would be read as another rails argument")
    if "://" in template or re.match(r"^[\w.+-]+:", template):
        raise RailsError(f"{where} {template!r} is a URL; fetch:rails runs offline, so a template must be a "
                         "file of the fetched skeleton (e.g. ./template.rb)")  # fmt: skip
    try:
        path = workspace.resolve(skeleton, template, where)
    except workspace.WorkspaceError as exc:
        raise RailsError(f"{exc} (a template must be a file of the fetched skeleton)") from None
    if not path.is_file():
        raise RailsError(f"{where} {template!r} is not a file of the fetched skeleton")


def check_app_name(name: Any) -> str:
    if not isinstance(name, str) or not _APP_NAME.match(name):
        raise RailsError(f"values.name {name!r} cannot name a Rails application: use letters, digits, '-' "
                         "and '_', starting with a letter or digit")  # fmt: skip
    return name


def hidden_folders() -> list[Path]:
    """What a template's Ruby must not read: the data dir (secret_key, repositories), Callboard's code
    folder (a local .env), home folders (git credentials, ssh keys)."""
    folders = [Path(settings.DATA_DIR), Path(settings.BASE_DIR), Path.home(), Path("/root"), Path("/home")]
    system = [Path(p) for p in ("/usr", "/etc", "/bin", "/lib", "/var/lib")]  # what Ruby needs stays
    return [f for f in folders if not any(s == f or f in s.parents for s in system)]


def run_rails_new(work_dir: Path, name: str, options: dict[str, Any], log) -> Path:
    """``rails new <work_dir>/intermediate/<name>`` in the sandbox; the one folder it generated."""
    rails = shutil.which(settings.SCAFFOLDER_RAILS_COMMAND, path=sandbox.clean_env(work_dir)["PATH"])
    if rails is None:
        raise RailsError(
            f"the `{settings.SCAFFOLDER_RAILS_COMMAND}` command is not installed on this worker (Debian: apt-get "
            "install ruby-rails; see docs/scaffolder.md). Callboard runs rails new locally, never in Docker."
        )
    intermediate = work_dir / "intermediate"
    intermediate.mkdir()
    args = rails_arguments(str(work_dir), options)
    args += [flag for flag in OFFLINE if flag not in args]
    isolate = settings.SCAFFOLDER_RAILS_ISOLATION
    if isolate and not sandbox.write_confinement_available():
        raise RailsError("rails new runs a template's Ruby and needs Linux namespaces (unshare) to run it "
                         "without network and with a read-only file system; they are not available here "
                         "(SCAFFOLDER_RAILS_ISOLATION=false runs it without)")  # fmt: skip
    command = [rails, "new", str(intermediate / name), *args]
    log(f"Running rails new {name} {' '.join(args)}")
    result = sandbox.run(
        command, work_dir, name="rails new", timeout=settings.SCAFFOLDER_RAILS_TIMEOUT,
        timeout_setting="SCAFFOLDER_RAILS_TIMEOUT", memory_mb=settings.SCAFFOLDER_RAILS_MEMORY_MB,
        file_mb=sources.MAX_BYTES // (1024 * 1024), isolate_network=isolate, confine_writes=isolate,
        env=sandbox.clean_env(work_dir, GIT_QUIET), hide=hidden_folders(),
    )  # fmt: skip
    for line in result.log.splitlines():
        log(line)
    if not result.ok:
        raise RailsError("rails new failed" + (" (timed out)" if result.timed_out else "") + "; see the log above")
    generated = sorted(intermediate.iterdir())
    if not generated or not generated[0].is_dir() or generated[0].is_symlink():
        raise RailsError("No data generated by rails")
    return generated[0]


def collect(result: Path) -> list[tuple[str, Path]]:
    """Every file of the generated app, checked: no links, no special files, no git repository, bounded."""
    files, total = [], 0
    for dirpath, dirnames, filenames in os.walk(result):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d != ".git")  # rails' git init; publish makes its own
        for entry in [*dirnames, *sorted(filenames)]:
            path = base / entry
            rel = path.relative_to(result).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise RailsError(f"rails new left a symbolic link at {rel} (-> {os.readlink(path)}); "
                                 "links are not copied to the workspace")  # fmt: skip
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise RailsError(f"rails new left {rel}, which is not a regular file")
            if entry == ".git":
                continue
            total += os.lstat(path).st_size
            files.append((rel, path))
            if len(files) > sources.MAX_FILES or total > sources.MAX_BYTES:
                raise RailsError(f"rails new generated more than {sources.MAX_FILES} files or "
                                 f"{sources.MAX_BYTES // (1024 * 1024)} MB")  # fmt: skip
    return files


def fetch_rails(ctx) -> None:
    values = ctx.input.get("values") or {}
    target = ctx.input.get("targetPath") or "./"
    root = ctx.resolve(target, "targetPath")
    if ctx.input.get("imageName"):
        ctx.log(f"imageName {ctx.input['imageName']!r} is ignored: Callboard runs rails new locally, not in Docker")
    name = check_app_name(values.get("name"))
    files, dirs = _fetch(ctx)
    with tempfile.TemporaryDirectory(prefix="callboard-rails-") as tmp:
        work_dir = Path(tmp)
        for rel_dir in dirs:
            workspace.ensure_dir(work_dir, rel_dir)
        for item in files:
            workspace.write_file(work_dir, item.path, item.data, mode=item.mode)
        options = check_rails_arguments(values.get("railsArguments"), work_dir)
        generated = run_rails_new(work_dir, name, options, ctx.log)
        collected = collect(generated)
        workspace.ensure_dir(ctx.workspace, target)
        for rel, path in collected:
            parent = PurePosixPath(rel).parent
            workspace.ensure_dir(root, str(parent))
            workspace.write_file(root, rel, path.read_bytes(), mode=os.lstat(path).st_mode)
    ctx.log(f"Wrote {len(collected)} files generated by rails new to {target}")


_BOOL = {"type": "boolean"}
FETCH_RAILS = ScaffolderAction(
    id="fetch:rails",
    handler=fetch_rails,
    description="Downloads a template from the given `url` into the workspace, and runs a rails new generator on it.",
    input_schema={
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "title": "Fetch URL",
                "type": "string",
                "description": "Relative path or absolute URL pointing to the directory tree to fetch",
            },
            "targetPath": {
                "title": "Target Path",
                "type": "string",
                "description": "Target path within the working directory to download the contents to.",
            },
            "values": {
                "title": "Template Values",
                "description": "Values to pass on to rails for templating",
                "type": "object",
                "properties": {
                    "railsArguments": {
                        "title": "Arguments to pass to new command",
                        "description": "You can provide some arguments to create a custom app",
                        "type": "object",
                        "properties": {
                            **{key: {**_BOOL, "title": key} for key, _ in FLAGS},
                            "template": {
                                "title": "template",
                                "type": "string",
                                "description": "Path to an application template in the fetched "
                                "skeleton (URLs are refused: fetch:rails runs offline)",
                            },
                            "webpacker": {"title": "webpacker", "type": "string", "enum": WEBPACKERS},
                            "database": {"title": "database", "type": "string", "enum": DATABASES},
                            "railsVersion": {
                                "title": "Rails version in Gemfile",
                                "type": "string",
                                "enum": RAILS_VERSIONS,
                            },
                        },
                    },
                },
            },
            "imageName": {
                "title": "Rails Docker image",
                "type": "string",
                "description": "Accepted for Backstage compatibility and ignored: no Docker runner",
            },
        },
    },
    output_schema={"type": "object", "properties": {}},
    examples=[
        {
            "description": "Rails app from ./skeleton with its template",
            "example": {
                "url": "./skeleton",
                "values": {"name": "shop", "railsArguments": {"template": "./template.rb"}},
            },
        }
    ],
    supports_dry_run=False,
    idempotent=True,
)
