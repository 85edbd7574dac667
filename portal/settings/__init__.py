"""Settings package: ``base`` (everything, env-driven) and ``test`` (overrides for the test run)."""
