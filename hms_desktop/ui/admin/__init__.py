"""The admin area: one page per thing an administrator keeps (listed in `pages.py`)."""
