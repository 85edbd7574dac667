"""Cross-cutting models: API tokens, background job runs and resolved identities."""

from portal.models.identity import GroupMappingRule, Identity, LoginEvent, MatchType
from portal.models.jobs import JobRun
from portal.models.tokens import ApiToken, TokenScope

__all__ = ["ApiToken", "GroupMappingRule", "Identity", "JobRun", "LoginEvent", "MatchType", "TokenScope"]
