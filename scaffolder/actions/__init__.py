"""Scaffolder actions: the built-ins, registered in ``registry["scaffolder_actions"]`` like a plugin's."""

from __future__ import annotations

from plugins.registry import registry
from plugins.scaffolder import ScaffolderAction, register_scaffolder_action


def register_builtin_actions() -> None:
    from scaffolder.actions import (
        basic,
        catalog,
        cookiecutter,
        fetch,
        github_repo,
        publish,
        publish_forge,
        publish_requests,
        rails,
    )

    for action in (
        basic.CATALOG_WRITE, basic.DEBUG_LOG, basic.DEBUG_WAIT, basic.FS_DELETE, basic.FS_RENAME,
        catalog.CATALOG_REGISTER, fetch.FETCH_PLAIN, fetch.FETCH_PLAIN_FILE, fetch.FETCH_TEMPLATE,
        fetch.FETCH_TEMPLATE_FILE, rails.FETCH_RAILS, publish.PUBLISH_GIT, publish_forge.PUBLISH_GITHUB,
        publish_forge.PUBLISH_GITLAB, cookiecutter.FETCH_COOKIECUTTER, github_repo.GITHUB_ACTIONS_DISPATCH,
        github_repo.GITHUB_PAGES_ENABLE, publish_requests.PUBLISH_GITHUB_PULL_REQUEST,
        publish_requests.PUBLISH_GITLAB_MERGE_REQUEST,
    ):  # fmt: skip
        register_scaffolder_action(action, replace=True)


def get_action(action_id: str) -> ScaffolderAction | None:
    return registry["scaffolder_actions"].get(action_id)


def all_actions() -> list[ScaffolderAction]:
    return [registry["scaffolder_actions"][key] for key in sorted(registry["scaffolder_actions"])]
