"""Use cases of the clinic, one module per area; each use case owns its transaction."""
