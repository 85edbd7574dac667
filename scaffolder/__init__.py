"""scaffolder: reserved; built by its own issue."""
