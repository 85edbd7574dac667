"""Native API serializers."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import Entity, Location, ProcessingError
from catalog.owners import effective_owner


class ProcessingErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcessingError
        fields = ["id", "entity_ref", "level", "file", "document", "field", "rule", "message", "created_at"]


class EntitySerializer(serializers.ModelSerializer):
    orphaned = serializers.SerializerMethodField()
    effective_owner_ref = serializers.SerializerMethodField(
        help_text="The owner that counts: an admin's verified owner, else owner_ref (spec.owner)"
    )

    class Meta:
        model = Entity
        fields = [
            "uid", "ref", "kind", "namespace", "name", "title", "description", "spec_type", "lifecycle",
            "owner_ref", "effective_owner_ref", "system_ref", "tags", "error_count", "orphaned", "valid", "known_kind",
            "etag", "generation", "source_file", "updated_at",
        ]  # fmt: skip

    def get_orphaned(self, entity: Entity) -> bool:
        return entity.orphaned_at is not None

    def get_effective_owner_ref(self, entity: Entity) -> str:
        return effective_owner(entity)


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = [
            "id", "type", "target", "presence", "status", "message", "version", "entity_count",
            "last_checked_at", "last_changed_at", "next_refresh_at", "created_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("type", "target", "presence")]
