"""Cross-cutting models: API tokens, service accounts, background job runs and the audit log."""

from portal.models.audit import AuditEvent
from portal.models.jobs import JobRun
from portal.models.tokens import ApiToken, ServiceAccount, TokenScope

__all__ = ["ApiToken", "AuditEvent", "JobRun", "ServiceAccount", "TokenScope"]
