"""Scorecard test data: a small org with a scorecard, loaded through a real file location."""

from __future__ import annotations

import pytest

from catalog.ingestion.refresh import refresh_location, register_location

ORG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: [], members: [pat, sam]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: pat}
spec: {memberOf: [payments]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: sam}
spec: {memberOf: [payments]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: Takes payments
  annotations: {backstage.io/techdocs-ref: dir:.}
spec: {type: service, lifecycle: production, owner: payments, system: shop}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger}
spec: {type: service, lifecycle: experimental, owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: orphan-svc, description: Nobody owns this}
spec: {type: service, lifecycle: production, owner: ghosts}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: site}
spec: {type: website, lifecycle: production, owner: payments}
"""

SCORECARD = """\
apiVersion: callboard.dev/v1alpha1
kind: Scorecard
metadata:
  name: production-readiness
  title: Production readiness
spec:
  owner: group:default/payments
  appliesTo: 'entity.kind == "Component" && entity.spec.type == "service"'
  levels: [Bronze, Silver, Gold]
  rules:
    - id: lifecycle-set
      level: Bronze
      expression: 'has(entity.spec.lifecycle)'
      description: The service declares its lifecycle
      remediation: Add spec.lifecycle to catalog-info.yaml
    - id: owner-is-group
      level: Bronze
      expression: 'owner_is_group(entity)'
      description: Owned by a team in the catalog
      remediation: Set spec.owner to a Group
    - id: described
      level: Silver
      expression: 'has_description(entity) && owner_members(entity) >= 2'
      description: Described, and its team has at least two people
    - id: docs
      level: Gold
      expression: 'has_techdocs(entity) && has_system(entity) && lifecycle_in(entity, ["production"])'
      description: Has TechDocs, a system and is in production
"""


def load(tmp_path, *texts: str, name: str = "catalog-info.yaml"):
    """Write ``texts`` as one multi-document file, register it and refresh it; returns the location."""
    path = tmp_path / name
    path.write_text("---\n".join(texts))
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    return location


@pytest.fixture
def scored_org(allow_tmp):
    return load(allow_tmp, ORG, SCORECARD)
