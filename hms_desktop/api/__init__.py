"""The REST API: the booking API (seed 000), the hospital API (seed 002) and the desk API."""
