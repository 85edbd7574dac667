"""allauth's GitHub provider with its URLs read per request (GitHub Enterprise from settings or the admin)."""
