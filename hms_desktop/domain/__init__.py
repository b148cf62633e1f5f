"""Plain-Python rules of the clinic: no I/O, no frameworks."""
