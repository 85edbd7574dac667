"""The GitHub provider class Callboard registers (``provider_class`` in SOCIALACCOUNT_PROVIDERS["github"])."""

from __future__ import annotations

from allauth.socialaccount.providers.github.provider import GitHubProvider as AllauthGitHubProvider

from portal.auth.github.views import GitHubAdapter


class GitHubProvider(AllauthGitHubProvider):
    oauth2_adapter_class = GitHubAdapter


provider_classes = [GitHubProvider]
