"""The software catalog: entities, relations and the locations they are read from."""
