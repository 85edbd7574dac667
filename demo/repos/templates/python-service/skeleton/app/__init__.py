"""${{ values.name }}: HTTP service package."""
