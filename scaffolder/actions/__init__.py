"""Scaffolder actions: the built-ins, registered in ``registry["scaffolder_actions"]`` like a plugin's."""

from __future__ import annotations

from plugins.registry import registry
from plugins.scaffolder import ScaffolderAction, register_scaffolder_action


def register_builtin_actions() -> None:
    from scaffolder.actions.basic import DEBUG_LOG, FS_DELETE, FS_RENAME
    from scaffolder.actions.catalog import CATALOG_REGISTER
    from scaffolder.actions.fetch import FETCH_PLAIN, FETCH_TEMPLATE
    from scaffolder.actions.publish import PUBLISH_GIT

    for action in (CATALOG_REGISTER, DEBUG_LOG, FETCH_PLAIN, FETCH_TEMPLATE, FS_DELETE, FS_RENAME, PUBLISH_GIT):
        register_scaffolder_action(action, replace=True)


def get_action(action_id: str) -> ScaffolderAction | None:
    return registry["scaffolder_actions"].get(action_id)


def all_actions() -> list[ScaffolderAction]:
    return [registry["scaffolder_actions"][key] for key in sorted(registry["scaffolder_actions"])]
