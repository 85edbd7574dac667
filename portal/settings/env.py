"""Environment access that remembers which variables the settings read.

docs/configuration.md documents every variable; portal/tests/test_settings_documented.py compares the
two, so a new setting cannot ship undocumented.
"""

from __future__ import annotations

import environ

READ_VARIABLES: set[str] = set()


class RecordingEnv(environ.Env):
    """django-environ's Env, recording each variable name it is asked for."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        READ_VARIABLES.add(var)
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = RecordingEnv()
