"""Configuration: defaults < TOML file < HMS_* environment variables."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import platformdirs

APP_NAME = "hms-desktop"
DEFAULT_SECRET_KEY = "insecure-development-key-change-me"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


@dataclass(frozen=True)
class Settings:
    mode: str = "local"  # "local" (database + lock store) or "remote" (REST API)
    database_url: str = ""
    redis_url: str = ""  # empty: built-in lock store and in-process events
    redis_prefix: str = "hms:"
    api_url: str = ""
    secret_key: str = DEFAULT_SECRET_KEY
    timezone: str = "UTC"
    hold_ttl_minutes: float = 5.0
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    booking_horizon_days: int = 28
    image_max_bytes: int = 2 * 1024 * 1024
    # Holds one patient may have at once (a desk's and their own together).
    max_holds_per_patient: int = 3
    # Upcoming appointments and requests a patient may make for themselves online (the
    # desk books any number).
    max_online_bookings_per_patient: int = 5
    # Self-registrations per client address.
    rate_limit_register: str = "10/hour"
    # Live update streams (GET /desk/v1/events) one account may hold open at once: a desk
    # each, and a clinic may share one reception account over many desks.
    max_event_streams_per_user: int = 25
    # Failed log-ins (and registrations of a taken name) per client address and username,
    # and per client address over all usernames: over either, that address gets 429 while
    # the account's owner elsewhere still gets in.
    rate_limit_login: str = "10/minute"
    rate_limit_login_client: str = "30/minute"
    rate_limit_default: str = "100/minute"
    # How long the API may reuse an encoded free-slot listing when no change event came.
    # Every booking change empties it; the age only bounds what no event announces (a hold
    # expiring, a slot starting), and both only err towards "not free" or a refused hold.
    answer_cache_seconds: float = 10.0
    cors_origins: tuple[str, ...] = ()
    # The address clients reach the server by (e.g. "https://hms.clinic.example"): absolute
    # links (pages, pictures) are built from it. Empty: from the address the request came in
    # on (the server's own socket), never from the client's Host header.
    public_url: str = ""
    # Reverse proxies whose X-Forwarded-For names the client (a proxy on this machine by
    # default); "*" trusts any, for a proxy elsewhere on a private network.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    # Request bodies: JSON at most this many bytes; uploads at most image_max_bytes + 64 KiB.
    max_json_bytes: int = 256 * 1024
    # Pictures are decoded (and re-encoded) only up to this many pixels.
    image_max_pixels: int = 12_000_000  # a phone's photo; decoding costs ~0.1 s per MP
    log_level: str = "INFO"
    config_file: str = ""

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{data_dir() / 'hms.sqlite3'}"

    @property
    def is_embedded(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def is_remote(self) -> bool:
        return self.mode == "remote" or bool(self.api_url)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hold_ttl_ms(self) -> int:
        return int(self.hold_ttl_minutes * 60_000)

    @property
    def has_default_secret(self) -> bool:
        return self.secret_key in ("", DEFAULT_SECRET_KEY)

    def with_overrides(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets hidden, for `hms-desktop check`."""
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        shown["database_url"] = _mask_url(self.effective_database_url)
        shown["redis_url"] = _mask_url(self.redis_url)
        shown["secret_key"] = "(default)" if self.has_default_secret else "****"
        return shown


def _mask_url(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    kind = _FIELD_TYPES[name]
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    if kind.startswith("tuple"):
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return tuple(value)
    return str(value)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = Path(env["HMS_CONFIG"]) if env.get("HMS_CONFIG") else default_config_path()
    if path.is_file():
        with path.open("rb") as handle:
            document = tomllib.load(handle)
        for key, value in document.items():
            if key in _FIELD_TYPES and key != "config_file":
                values[key] = _coerce(key, value)
        values["config_file"] = str(path)
    elif env.get("HMS_CONFIG"):
        raise FileNotFoundError(f"HMS_CONFIG points to {path}, which does not exist")
    for name in _FIELD_TYPES:
        variable = f"HMS_{name.upper()}"
        if name != "config_file" and variable in env:
            values[name] = _coerce(name, env[variable])
    settings = Settings(**values)
    settings.tz  # noqa: B018 - fail early on an unknown time zone
    return settings
