"""The FastAPI application: both API documents and the desk API over one Clinic."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

import hms_desktop
from hms_desktop.config import Settings, load_settings
from hms_desktop.services.clinic import Clinic, open_clinic
from hms_desktop.services.delivery import transports_for
from hms_desktop.services.sender import MessageSender
from hms_desktop.services.slot_keeper import SlotKeeper
from hms_desktop.services.version_gate import published_requirements

from . import booking, desk, health, hospital, hospital_users, media, openapi
from .answer_cache import AnswerCache
from .booking_writes import BookingWrites
from .desk_events import end_streams_on_stop
from .edge import EdgeMiddleware
from .errors import RequestIdMiddleware, install_error_handlers
from .fast_path import PublicFastPath
from .openapi import PUBLIC, access
from .patient_answers import PatientAnswers
from .ratelimit import RequestBudget
from .request_log import RequestLogMiddleware
from .sign_ins import RedisKeys, SignIns

meta = APIRouter(tags=["meta"])


# How soon `db require-version` reaches GET /api/version: remote desks ask it at log-in and
# on every reconnect, so its answer is kept this long instead of read on every call.
VERSION_SECONDS = 1.0


class VersionAnswer:
    """GET /api/version's bytes, with what IT published read at most once a second, by one
    request at a time: the others meanwhile get the last answer. (Every request that came
    while a read was under way read too: under load 7-14 reads at once in a worker's
    threads, and requests waiting 0.1-1.2 s behind them.)"""

    def __init__(self, clinic: Clinic, clock: Callable[[], float] = time.monotonic) -> None:
        self._clinic, self._clock = clinic, clock
        self._body, self._read_at = b"", -math.inf
        self._reading = False

    async def body(self) -> bytes:
        now = self._clock()
        if now - self._read_at < VERSION_SECONDS or (self._reading and self._body):
            return self._body
        self._reading = True
        try:
            published = await run_in_threadpool(published_requirements, self._clinic)
        finally:
            self._reading = False
        answer = {
            "api_version": hms_desktop.API_VERSION,
            "server_version": hms_desktop.__version__,
            **published,
        }
        self._body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
        self._read_at = now
        return self._body


@meta.get(
    "/api/version",
    response_model=dict[str, str],
    summary="API and server versions (remote desktops check them)",
    openapi_extra=access(PUBLIC),
)
async def version(request: Request) -> Response:
    """Also `min_desktop_version` and `update_location` once IT set them (db require-version)."""
    return Response(await request.app.state.version.body(), media_type="application/json")


def create_app(
    clinic: Clinic | None = None, settings: Settings | None = None, *, keep_slots: bool = False
) -> FastAPI:
    """The app over `clinic`, or over a clinic opened from `settings` (closed on shutdown).
    With `keep_slots` (`hms-desktop serve`) it tops up every doctor's slots to the booking
    horizon at start and hourly, in a background thread stopped at shutdown; and, when the
    settings name an SMTP server or SMS webhook, sends the outbox's due messages."""
    if settings is None:
        settings = clinic.settings if clinic is not None else load_settings()
    owns_clinic = clinic is None
    the_clinic = clinic if clinic is not None else open_clinic(settings)

    answers = AnswerCache(the_clinic.events, max_age=settings.answer_cache_seconds)
    sign_ins = SignIns(the_clinic, RedisKeys(settings.redis_url))
    patient_answers = PatientAnswers(
        sign_ins.keys, settings.redis_prefix, max_age=settings.answer_cache_seconds
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        end_streams_on_stop()
        keeper = SlotKeeper(the_clinic).start() if keep_slots else None
        transports = transports_for(the_clinic.settings) if keep_slots else {}
        sender = MessageSender(the_clinic, transports).start() if transports else None
        yield
        if sender is not None:
            sender.stop()
        if keeper is not None:
            keeper.stop()
        answers.close()
        if owns_clinic:
            the_clinic.close()

    app = FastAPI(
        title="hms-desktop",
        version=hms_desktop.__version__,
        description=(
            "Clinic reception REST API: the booking API (no trailing slashes), the hospital "
            "API (trailing slashes) and the desk API (`/desk/v1`)."
        ),
        redirect_slashes=False,
        lifespan=lifespan,
    )
    app.state.clinic = the_clinic
    app.state.answer_cache = answers
    app.state.sign_ins = sign_ins
    app.state.patient_answers = patient_answers
    app.state.version = VersionAnswer(the_clinic)
    app.state.request_budget = RequestBudget(the_clinic)
    app.state.settings = settings
    install_error_handlers(app)
    # Innermost: what they answer still passes CORS, the log line, the request id and the edge.
    app.add_middleware(
        BookingWrites,
        clinic=the_clinic,
        budget=app.state.request_budget,
        sign_ins=app.state.sign_ins,
    )
    app.add_middleware(
        PublicFastPath,
        clinic=the_clinic,
        answers=answers,
        budget=app.state.request_budget,
        version=app.state.version,
        sign_ins=sign_ins,
        patients=patient_answers,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(RequestLogMiddleware)  # inside RequestIdMiddleware: sees the id
    app.add_middleware(RequestIdMiddleware)
    # Outermost: even a 500 from the request-id guard carries the security headers.
    app.add_middleware(EdgeMiddleware, settings=settings)
    app.include_router(meta)
    app.include_router(health.router)
    app.include_router(booking.router)
    app.include_router(hospital_users.router)
    app.include_router(hospital.router)
    app.include_router(media.router)
    app.include_router(desk.router)
    openapi.install(app)
    return app
