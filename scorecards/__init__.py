"""scorecards: reserved; built by its own issue."""
