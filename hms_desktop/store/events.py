"""Change events: Redis pub/sub centrally, in-process when embedded."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Protocol

import redis

from hms_desktop.domain.models import ChangeEvent, to_jsonable

log = logging.getLogger(__name__)

Listener = Callable[[ChangeEvent], None]

# How long the event follower waits for a message before it looks at its stop flag: a
# server's shutdown and a desk's close wait for it (an idle wake-up costs next to nothing).
STOP_CHECK_SECONDS = 0.1


class Subscription(Protocol):
    def close(self) -> None: ...


class EventBus(Protocol):
    def publish(self, event: ChangeEvent) -> None: ...

    def subscribe(self, listener: Listener) -> Subscription: ...

    def close(self) -> None: ...


_EVENT_FIELDS = tuple(item.name for item in dataclasses.fields(ChangeEvent))


def encode_event(event: ChangeEvent) -> str:
    """An event as JSON. Its fields are flat (only `extra` nests), so they are read directly:
    dataclasses.asdict deep-copies every value, and every hold and booking publishes one."""
    return json.dumps({name: getattr(event, name) for name in _EVENT_FIELDS}, default=to_jsonable)


def _deliver(listener: Listener, event: ChangeEvent) -> None:
    try:
        listener(event)
    except Exception:  # a broken listener must not stop the others from hearing of changes
        log.exception("change-event listener failed")


class _LocalSubscription:
    def __init__(self, bus: InProcessEventBus, listener: Listener) -> None:
        self._bus = bus
        self._listener = listener

    def close(self) -> None:
        self._bus._remove(self._listener)


class _LocalChannel:
    """The listeners of one embedded database, shared by every Clinic opened on it in this
    process (two desks in one process hear each other, as they would through Redis)."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.lock = threading.Lock()


_channels: dict[str, _LocalChannel] = {}
_channels_lock = threading.Lock()


class InProcessEventBus:
    def __init__(self, channel: str = "") -> None:
        with _channels_lock:
            self._channel = (
                _channels.setdefault(channel, _LocalChannel()) if channel else _LocalChannel()
            )
        self._own: list[Listener] = []

    def publish(self, event: ChangeEvent) -> None:
        with self._channel.lock:
            listeners = list(self._channel.listeners)
        for listener in listeners:
            _deliver(listener, event)

    def subscribe(self, listener: Listener) -> Subscription:
        with self._channel.lock:
            self._channel.listeners.append(listener)
            self._own.append(listener)
        return _LocalSubscription(self, listener)

    def _remove(self, listener: Listener) -> None:
        with self._channel.lock:
            if listener in self._channel.listeners:
                self._channel.listeners.remove(listener)
            if listener in self._own:
                self._own.remove(listener)

    def close(self) -> None:
        """Drop this bus's own listeners; other Clinics on the same database keep theirs."""
        for listener in list(self._own):
            self._remove(listener)


class _RedisFollower:
    """One thread following the channel for every listener of a bus (a server with many
    desks' streams holds one Redis connection for them, not one each); reconnects after
    Redis comes back."""

    def __init__(self, client: redis.Redis, channel: str, deliver: Listener) -> None:
        self._client = client
        self._channel = channel
        self._deliver = deliver
        self._stopped = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hms-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lost = False
        while not self._stopped.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                self.ready.set()
                if lost:
                    log.info("event stream followed again")
                lost = False
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=STOP_CHECK_SECONDS)
                    if message and message.get("type") == "message":
                        self._deliver(ChangeEvent.from_dict(json.loads(message["data"])))
            except redis.RedisError as error:
                # One line per outage, not a traceback a second while Redis is away.
                if not lost:
                    log.warning("event stream lost (%s); reconnecting", error)
                lost = True
                self._stopped.wait(1.0)
            finally:
                pubsub.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


class _BusSubscription:
    def __init__(self, bus: RedisEventBus, listener: Listener) -> None:
        self._bus = bus
        self._listener = listener

    def close(self) -> None:
        self._bus._remove(self._listener)


# How long a change key (below) lives after its last change: any value outlives the answers
# kept under it (`answer_cache_seconds`), and a key that expired reads as "changed".
CHANGE_KEY_SECONDS = 86_400


def change_key(prefix: str, patient_id: int | None) -> str:
    """The Redis key every published change rewrites (to a fresh random value, in the same
    round trip as the PUBLISH): the patient's it concerns, or the clinic's when it concerns
    no one patient. A server keeps a patient's own answers only while both keys still hold
    the values read before computing them (api/patient_answers.py), so a change is seen
    by every server at once, before the request that made it has its answer."""
    return f"{prefix}changed:patient:{patient_id}" if patient_id is not None else f"{prefix}changed"


class RedisEventBus:
    def __init__(self, url: str, prefix: str = "hms:") -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2)
        self._channel = f"{prefix}events"
        self._prefix = prefix
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._follower: _RedisFollower | None = None
        self.origin = uuid.uuid4().hex

    def publish(self, event: ChangeEvent) -> None:
        try:
            pipeline = self._client.pipeline(transaction=False)
            pipeline.set(
                change_key(self._prefix, event.patient_id), uuid.uuid4().hex, ex=CHANGE_KEY_SECONDS
            )
            pipeline.publish(self._channel, encode_event(event))
            pipeline.execute()
        except redis.RedisError:
            # The change is already committed; desks resynchronise when they reconnect.
            log.warning("could not publish %s event", event.kind, exc_info=True)

    def subscribe(self, listener: Listener) -> Subscription:
        with self._lock:
            self._listeners.append(listener)
            follower = self._follower
            starting = follower is None
            if follower is None:
                follower = self._follower = _RedisFollower(
                    self._client, self._channel, self._deliver
                )
        if starting:
            # The first listener waits (briefly) until the channel is followed, so it hears
            # of every change made after it subscribed.
            follower.ready.wait(timeout=5)
        return _BusSubscription(self, listener)

    @property
    def listening(self) -> int:
        with self._lock:
            return len(self._listeners)

    def _deliver(self, event: ChangeEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            _deliver(listener, event)

    def _remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def close(self) -> None:
        with self._lock:
            follower, self._follower = self._follower, None
            self._listeners.clear()
        if follower is not None:
            follower.stop()
        self._client.close()
