"""Cross-cutting models: API tokens and background job runs."""

from portal.models.jobs import JobRun
from portal.models.tokens import ApiToken, TokenScope

__all__ = ["ApiToken", "JobRun", "TokenScope"]
