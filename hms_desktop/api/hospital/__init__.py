"""The hospital API (seed 002): patients, doctors, catalogue, reviews, appointments,
services, contacts, one module each. Paths end in a slash; errors are DRF-style."""

from __future__ import annotations

from fastapi import APIRouter

from ..ratelimit import EVERY_REQUEST
from . import appointments, catalogue, contacts, doctors, patients, reviews

router = APIRouter(tags=["hospital API"], dependencies=EVERY_REQUEST)
for resource in (patients, doctors, catalogue, reviews, appointments, contacts):
    router.include_router(resource.router)
