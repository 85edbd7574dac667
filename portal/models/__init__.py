"""Cross-cutting models: API tokens, service accounts, job runs, resolved identities and the audit log."""

from portal.models.audit import AuditEvent
from portal.models.identity import GroupMappingRule, Identity, LoginEvent, MatchType
from portal.models.jobs import JobRun
from portal.models.tokens import ApiToken, ServiceAccount, TokenScope

__all__ = [
    "ApiToken", "AuditEvent", "GroupMappingRule", "Identity", "JobRun", "LoginEvent", "MatchType",
    "ServiceAccount", "TokenScope",
]  # fmt: skip
