"""Cross-cutting models: tokens, service accounts, job runs, identities, access rules and the audit log."""

from portal.models.access import Role, RoleGrant
from portal.models.audit import AuditEvent
from portal.models.identity import GroupMappingRule, Identity, LoginEvent, MatchType
from portal.models.jobs import JobRun
from portal.models.notifications import Notification, NotificationDelivery, NotificationMute, NotificationTarget
from portal.models.tokens import ApiToken, ServiceAccount, TokenScope

__all__ = [
    "ApiToken", "AuditEvent", "GroupMappingRule", "Identity", "JobRun", "LoginEvent", "MatchType", "Notification",
    "NotificationDelivery", "NotificationMute", "NotificationTarget", "Role",
    "RoleGrant", "ServiceAccount", "TokenScope",
]  # fmt: skip
