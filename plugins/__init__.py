"""The extension framework: one registry, entity tabs, menu items. Public surface: plugins.api."""
