"""The admin area: pages shown to the admin role only (`pages.PAGES`)."""
