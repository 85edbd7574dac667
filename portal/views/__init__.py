"""The core's pages: API tokens, and the admin's sign-in handed to allauth."""

from portal.views.auth import admin_login
from portal.views.tokens import token_list, token_revoke

__all__ = ["admin_login", "token_list", "token_revoke"]
