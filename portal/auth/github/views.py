"""allauth's GitHub adapter, its URLs worked out per request.

allauth's own adapter fixes its URLs when its module is imported, from ``GITHUB_URL`` in the provider
settings only. This one reads them on each sign-in: an app's ``github_url`` (a SocialApp's settings in the
admin), else the provider's ``GITHUB_URL``, else github.com. The rest is allauth's code unchanged.
"""

from __future__ import annotations

from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView

from portal.auth.teams import github_urls


class GitHubAdapter(GitHubOAuth2Adapter):
    def _url(self, which: str) -> str:
        return github_urls(self.get_provider().app)[which]

    access_token_url = property(lambda self: self._url("web") + "/login/oauth/access_token")
    authorize_url = property(lambda self: self._url("web") + "/login/oauth/authorize")
    profile_url = property(lambda self: self._url("api") + "/user")
    emails_url = property(lambda self: self._url("api") + "/user/emails")


oauth2_login = OAuth2LoginView.adapter_view(GitHubAdapter)
oauth2_callback = OAuth2CallbackView.adapter_view(GitHubAdapter)
