"""HTTP to the desk API: tokens kept in memory, refresh, retries, offline state, errors.

- The access token is refreshed shortly before it expires, and once more if the server
  answers 401 anyway (its clock may run ahead of ours); a refresh the server refuses
  raises `TokenInvalid`, which sends the user back to the log-in window.
- Only idempotent requests (GET) are retried, with exponential backoff; a failed write is
  reported rather than repeated, since the server may have applied it.
- A connection failure raises `BackendUnavailable` and marks the transport offline until a
  request gets through again.
- A 429 of the per-caller request budget is waited out (its `Retry-After`, when short) and
  sent again, writes too: the server refused it before doing anything. A longer wait, or
  another limit (failed log-ins), is reported as the `RateLimited` error it is.
- A 503 (the clinic's database or Redis briefly away) is reported at once as the
  "unavailable" error the server named: the desk shows its banner and retries its reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from packaging.version import InvalidVersion, Version

import hms_desktop
from hms_desktop.client.codec import error_from_body
from hms_desktop.domain.errors import BackendUnavailable, DomainError, NotLoggedIn, TokenInvalid

log = logging.getLogger(__name__)

DESK = "/desk/v1"
# Refresh this long before the access token expires (capped at a quarter of its lifetime).
REFRESH_MARGIN_SECONDS = 30.0
# Gateways answer these while the API server restarts behind them.
_RETRYABLE_STATUS = frozenset({502, 504})
# A throttled request is sent again after the server's Retry-After when that is at most
# this long, and this many times at most; the caller waits meanwhile (a worker thread).
THROTTLE_WAIT_MAX_SECONDS = 10.0
THROTTLE_RETRIES = 2
# Only the request budget's 429 is waited out (`type` in the desk API's error body).
_WAITED_OUT = frozenset({"RateLimited"})


def throttle_wait(response: httpx.Response) -> float | None:
    """Seconds to wait before sending a throttled request again, or None: not throttled by
    the request budget, or for longer than is worth waiting."""
    if response.status_code != 429:
        return None
    try:
        body = response.json()
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("type") not in _WAITED_OUT:
        return None
    return seconds if 0 <= seconds <= THROTTLE_WAIT_MAX_SECONDS else None


class IncompatibleServer(DomainError):
    kind = "unavailable"
    message = "The clinic server speaks another version of the desk API."


class NotAClinicServer(IncompatibleServer):
    message = "That address answers, but it is not an hms-desktop clinic server."


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def _older(version: str, required: str) -> bool:
    try:
        return Version(version) < Version(required)
    except InvalidVersion:
        return False  # an unreadable minimum is the server's problem, not a reason to stop


def _expiry(token: str) -> tuple[float, float]:
    """(expires at, lifetime) of a JWT, read without verifying it: the server verifies."""
    claims = jwt.decode(token, options={"verify_signature": False})
    expires = float(claims.get("exp", 0))
    return expires, max(0.0, expires - float(claims.get("iat", expires)))


class Transport:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._clock = clock
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            headers={"User-Agent": f"hms-desktop/{hms_desktop.__version__}"},
        )
        self._token_lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._refresh_at = 0.0
        self._online = True
        self._online_listeners: list[Callable[[bool], None]] = []

    # --- offline state ----------------------------------------------------------------------
    @property
    def online(self) -> bool:
        return self._online

    def on_online_change(self, listener: Callable[[bool], None]) -> None:
        """`listener(online)` is called (from the calling thread) when reachability flips."""
        self._online_listeners.append(listener)

    def mark_offline(self) -> None:
        """The event stream found the server unreachable (no request needed to learn it)."""
        self._set_online(False)

    def mark_online(self) -> None:
        self._set_online(True)

    def _set_online(self, online: bool) -> None:
        if online == self._online:
            return
        self._online = online
        log.warning("clinic server %s: %s", "reachable" if online else "unreachable", self.base_url)
        for listener in list(self._online_listeners):
            try:
                listener(online)
            except Exception:  # a broken listener must not break the request path
                log.exception("online-state listener failed")

    # --- tokens -----------------------------------------------------------------------------
    @property
    def logged_in(self) -> bool:
        return self._refresh is not None

    def set_tokens(self, access: str, refresh: str) -> None:
        with self._token_lock:
            self._refresh = refresh
            self._set_access(access)

    def _set_access(self, access: str) -> None:
        expires, lifetime = _expiry(access)
        self._access = access
        self._refresh_at = expires - min(REFRESH_MARGIN_SECONDS, lifetime / 4)

    def clear_tokens(self) -> tuple[str | None, str | None]:
        with self._token_lock:
            tokens = (self._access, self._refresh)
            self._access = self._refresh = None
            return tokens

    def end_session(self) -> None:
        """Forget the tokens and revoke both on the server, for good."""
        access, refresh = self.clear_tokens()
        if refresh is None:
            return
        response = self._send(
            "POST", f"{DESK}/session/logout", json={"refresh": refresh}, token=access
        )
        if not response.is_success:
            raise self._error(response)

    def access_token(self, *, force_refresh: bool = False, stale: str | None = None) -> str:
        """A current access token, refreshed first if it is about to expire (or `stale`)."""
        with self._token_lock:
            if self._refresh is None:
                raise NotLoggedIn()
            due = self._access is None or self._clock() >= self._refresh_at
            if due or (force_refresh and self._access == stale):
                self._renew()
            assert self._access is not None
            return self._access

    def _renew(self) -> None:
        response = self._send("POST", f"{DESK}/session/refresh", json={"refresh": self._refresh})
        if response.status_code == 200:
            self._set_access(response.json()["access"])
            return
        error = self._error(response)
        if isinstance(error, TokenInvalid) or response.status_code == 401:
            # The refresh token was revoked or has expired: the session is over.
            self._access = self._refresh = None
            raise TokenInvalid(error.message) from None
        raise error

    # --- requests ---------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        token: str | None = None,
        files: Any = None,
    ) -> httpx.Response:
        response = self._send_once(method, path, json=json, params=params, token=token, files=files)
        for _ in range(THROTTLE_RETRIES):
            wait = throttle_wait(response)
            if wait is None:
                break
            log.info("%s %s throttled; sending again in %.0f s", method, path, wait)
            time.sleep(wait)
            response = self._send_once(
                method, path, json=json, params=params, token=token, files=files
            )
        return response

    def _send_once(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        token: str | None = None,
        files: Any = None,
    ) -> httpx.Response:
        """One request, with the retries of a GET the network or a gateway lost."""
        attempts = 1 + (self.retries if method == "GET" else 0)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._http.request(
                    method, path, json=json, params=params, headers=headers, files=files
                )
            except httpx.TransportError as error:
                if last:
                    self._set_online(False)
                    raise BackendUnavailable() from error
                log.debug("%s %s failed (%s); retrying", method, path, error)
            else:
                if response.status_code not in _RETRYABLE_STATUS or last:
                    self._set_online(True)
                    return response
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def error_of(self, response: httpx.Response) -> DomainError:
        """The domain error a failed answer stands for."""
        return self._error(response)

    def _error(self, response: httpx.Response) -> DomainError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500 and "kind" not in body:
            return BackendUnavailable(
                f"The clinic server failed (HTTP {response.status_code}); try again."
            )
        return error_from_body(body, response.status_code)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        auth: bool = True,
        files: Any = None,
    ) -> Any:
        """The decoded JSON answer of a desk API call, or the domain error it raised
        (`files`: a multipart upload, e.g. a picture)."""
        token = self.access_token() if auth else None
        sent = {"json": json, "params": params, "files": files}
        response = self._send(method, path, token=token, **sent)
        if response.status_code == 401 and auth:
            token = self.access_token(force_refresh=True, stale=token)
            response = self._send(method, path, token=token, **sent)
        if response.is_success:
            return response.json() if response.content else None
        raise self._error(response)

    def check_version(self) -> dict[str, str]:
        """The server's versions; refuses a server whose desk API major version differs,
        and a web server that is no clinic server at all."""
        try:
            info = self.request("GET", "/api/version", auth=False)
        except BackendUnavailable:
            raise
        except (DomainError, ValueError) as error:  # a 404 page, HTML: some other server
            raise self._not_a_clinic() from error
        if not isinstance(info, dict) or not info.get("api_version"):
            raise self._not_a_clinic()
        server = str(info.get("api_version", ""))
        if _major(server) != _major(hms_desktop.API_VERSION):
            raise IncompatibleServer(
                f"The clinic server at {self.base_url} speaks desk API version {server or '?'}, "
                f"but this desktop speaks version {hms_desktop.API_VERSION}. Install the "
                "desktop version that matches the server (ask IT)."
            )
        required = str(info.get("min_desktop_version") or "")
        if required and _older(hms_desktop.__version__, required):
            where = info.get("update_location")
            raise IncompatibleServer(
                f"This hms-desktop (version {hms_desktop.__version__}) is too old for the "
                f"clinic server: it needs version {required} or newer. "
                + (f"IT puts it here: {where}" if where else "Ask IT to install it.")
            )
        return info

    def _not_a_clinic(self) -> NotAClinicServer:
        return NotAClinicServer(
            f"{self.base_url} answers, but it is not an hms-desktop clinic server. Check the "
            "server's address (api_url) with IT."
        )

    def close(self) -> None:
        self._http.close()
