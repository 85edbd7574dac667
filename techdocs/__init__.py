"""techdocs: reserved; built by its own issue."""
