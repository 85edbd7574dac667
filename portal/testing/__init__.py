"""Test toolkit shared by every app (and, later, plugins)."""
