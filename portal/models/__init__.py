"""Cross-cutting models: API tokens, background job runs, roles and access rules."""

from portal.models.access import Role, RoleGrant
from portal.models.jobs import JobRun
from portal.models.tokens import ApiToken, TokenScope

__all__ = ["ApiToken", "JobRun", "Role", "RoleGrant", "TokenScope"]
