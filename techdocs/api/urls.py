"""TechDocs API routes, mounted at /api/techdocs/."""

from django.urls import path

from techdocs.api import views

TRIPLET = "<str:namespace>/<str:kind>/<str:name>"

urlpatterns = [
    path(f"static/docs/{TRIPLET}/", views.StaticDocsView.as_view(), name="techdocs-static-index"),
    path(f"static/docs/{TRIPLET}/<path:path>", views.StaticDocsView.as_view(), name="techdocs-static"),
    path(f"metadata/techdocs/{TRIPLET}", views.TechDocsMetadataView.as_view(), name="techdocs-metadata"),
    path(f"metadata/entity/{TRIPLET}", views.EntityMetadataView.as_view(), name="techdocs-entity-metadata"),
    path(f"sync/{TRIPLET}", views.SyncView.as_view(), name="techdocs-sync"),
    path(f"publish/{TRIPLET}", views.PublishView.as_view(), name="techdocs-publish"),
]
