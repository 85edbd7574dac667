"""A small organisation for identity tests: teams with a parent, people matched in different ways."""

from __future__ import annotations

from pathlib import Path

from catalog.ingestion.refresh import refresh_location, register_location

ORG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: engineering, title: Engineering}
spec: {type: department, children: [payments, platform]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments, title: Payments Team}
spec: {type: team, parent: engineering, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform, title: Platform Team}
spec: {type: team, parent: engineering, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: pat}
spec: {memberOf: [payments], profile: {email: Pat@Example.com, displayName: Pat}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: octo, annotations: {github.com/user-login: octocat}}
spec: {memberOf: [platform]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: sam}
spec: {memberOf: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: twin-a}
spec: {memberOf: [], profile: {email: twin@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: twin-b}
spec: {memberOf: [], profile: {email: twin@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout, title: Checkout}
spec: {type: service, lifecycle: production, owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: deploy-bot, title: Deploy Bot}
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: handbook, title: Engineering Handbook}
spec: {type: website, lifecycle: production, owner: engineering}
"""


def load_org(directory: Path, text: str = ORG):
    """Write the org to ``directory/org.yaml``, register it as a file location and refresh it."""
    path = directory / "org.yaml"
    path.write_text(text)
    location = register_location(str(path), type="file")
    refresh_location(location.pk, force=True)
    return location


def assert_owns_through_teams(page, stored) -> None:
    """pat's home page and stored Identity after an SSO sign-in whose IdP groups include ``team-platform``."""
    body = page.locator("main").inner_text()
    assert "Checkout" in body  # catalog: pat memberOf payments
    assert "Deploy Bot" in body  # IdP group team-platform → group:default/platform (mapping rule)
    assert "Engineering Handbook" in body  # parent of both teams
    assert (stored.entity_ref, stored.matched_by) == ("user:default/pat", "email")
    assert stored.mapped_group_refs == ["group:default/platform"]
    teams = {"group:default/payments", "group:default/platform", "group:default/engineering"}
    assert set(stored.ownership_refs) == {"user:default/pat", *teams}
    assert not stored.needs_review
