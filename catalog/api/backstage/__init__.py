"""Backstage-compatible catalog REST API (paths and JSON shapes of spec section 7)."""
