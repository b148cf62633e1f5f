"""Application assembly, above the services: which `Backend` a desktop opens from the
configuration (bootstrap), the desktop's start, IT's `check` and maintenance commands.

The layers below never import from here; `tests/test_layers.py` holds them to it."""
