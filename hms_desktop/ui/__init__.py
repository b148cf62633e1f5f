"""The PySide6 desktop app. Talks only to the `Backend` interface, never blocks the GUI thread."""
