"""The admin area: one tab per page of `pages.PAGES` (admins only)."""
