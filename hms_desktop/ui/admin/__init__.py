"""The admin area: one page per module, listed in `pages.py` (admins only)."""
