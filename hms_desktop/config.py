"""Configuration: defaults < TOML file < HMS_* environment variables.

Declared once, as the fields of `Settings` (pydantic-settings validates them). Adding a setting
is one `Field(...)` line: the TOML file, its `HMS_<NAME>` variable, `hms-desktop config init`
and `hms-desktop check` all follow from it.
"""

from __future__ import annotations

import difflib
import os
import platform
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from hms_desktop.domain.phones import DEFAULT_REGION

APP_NAME = "hms-desktop"
DEFAULT_SECRET_KEY = "insecure-development-key-change-me"
ENV_PREFIX = "HMS_"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Every setting, its default and what it is for (the description is the comment
    `hms-desktop config init` writes above it)."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    mode: Literal["local", "remote"] = Field(
        "local", description="local: this machine talks to the database; remote: to api_url"
    )
    database_url: str = Field(
        "", description="PostgreSQL URL; empty: an SQLite file in the user data folder"
    )
    redis_url: str = Field("", description="empty: built-in lock store, in-process events")
    redis_prefix: str = Field("hms:", description="prefix of this clinic's Redis keys")
    api_url: str = Field("", description="the clinic server, for remote mode")
    secret_key: str = Field(
        DEFAULT_SECRET_KEY, description="signs log-in tokens; a server needs a long random one"
    )
    timezone: str = Field("UTC", description="the clinic's IANA time zone, e.g. Asia/Kolkata")
    # Desks in a clinic type local numbers ("07700 900081"); GB, since the demo clinic's
    # numbers are British. A clinic elsewhere sets its own (IN, US, DE, ...).
    default_phone_region: str = Field(
        DEFAULT_REGION,
        description="country of a phone number typed without +country code, e.g. GB, IN",
    )
    hold_ttl_minutes: float = Field(5.0, gt=0, description="how long a slot hold lasts")
    access_token_minutes: int = Field(15, gt=0, description="API access token lifetime")
    refresh_token_days: int = Field(7, gt=0, description="API refresh token lifetime")
    booking_horizon_days: int = Field(28, gt=0, description="how far ahead slots are kept")
    image_max_bytes: int = Field(2 * 1024 * 1024, gt=0, description="largest uploaded image")
    max_holds_per_patient: int = Field(
        3, gt=0, description="holds one patient may have at once (a desk's and their own)"
    )
    max_online_bookings_per_patient: int = Field(
        5, gt=0, description="upcoming bookings and requests a patient may make online"
    )
    rate_limit_register: str = Field("10/hour", description="self-registrations per address")
    # A desk each; a clinic may share one reception account over many desks.
    max_event_streams_per_user: int = Field(
        25, gt=0, description="live update streams one account may hold open at once"
    )
    # Failed log-ins (and registrations of a taken name) per client address and username,
    # and per client address over all usernames: over either, that address gets 429 while
    # the account's owner elsewhere still gets in.
    rate_limit_login: str = Field(
        "10/minute", description="failed log-ins per client address and username"
    )
    rate_limit_login_client: str = Field(
        "30/minute", description="failed log-ins per client address, all usernames"
    )
    rate_limit_default: str = Field(
        "100/minute", description="API calls per patient (per address when anonymous)"
    )
    # A working desk: searches after each typing pause, a calendar week per change it is
    # shown, holds and bookings, reconnects. Counted per account *and* desk address, since
    # a clinic may share one reception account over every desk.
    rate_limit_desk: str = Field(
        "600/minute", description="API calls per staff or doctor account per desk address"
    )
    # How long the API may reuse an encoded free-slot listing when no change event came.
    # Every booking change empties it; the age only bounds what no event announces (a hold
    # expiring, a slot starting), and both only err towards "not free" or a refused hold.
    answer_cache_seconds: float = Field(
        10.0, ge=0, description="longest reuse of a free-slot answer"
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="web origins allowed to call the API (comma-separated in HMS_*)"
    )
    # Absolute links (pages, pictures) are built from it; empty: from the address the request
    # came in on (the server's own socket), never from the client's Host header.
    public_url: str = Field(
        "", description="the address clients reach the server by, e.g. https://hms.clinic.example"
    )
    # "*" trusts any, for a proxy elsewhere on a private network.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        ("127.0.0.1",), description="reverse proxies whose X-Forwarded-For names the client"
    )
    max_json_bytes: int = Field(
        256 * 1024, gt=0, description="largest JSON request body (uploads: image_max_bytes)"
    )
    image_max_pixels: int = Field(  # a phone's photo; decoding costs ~0.1 s per MP
        12_000_000, gt=0, description="pictures are decoded only up to this many pixels"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="serve's log lines: text, or one JSON object per line"
    )
    log_dir: str = Field("", description="the desktop's log folder; empty: the platform's")
    update_url: str = Field(
        "", description="where IT puts new builds (web page or shared folder), shown to old desks"
    )
    # Holds belong to one desk's log-in: the same account at two PCs sees the other's hold
    # as "held at <desk name> by <person>".
    desk_name: str = Field(
        "", max_length=60, description="this desk's name on other desks; empty: the host name"
    )
    # --- reminders: messages to patients (services/outbox.py, services/sender.py) ---------
    # Written by whichever process books (a desk on the database, or the server); sent only
    # by `serve`, which needs smtp_host (e-mail) or sms_webhook_url (SMS) to send them.
    message_channels: Annotated[tuple[Literal["email", "sms"], ...], NoDecode] = Field(
        ("email",), description="channels messages are written for: email, sms (comma-separated)"
    )
    reminder_hours: float = Field(
        24.0, ge=0, description="how long before an appointment its reminder goes; 0: none"
    )
    smtp_host: str = Field("", description="mail server for e-mail messages; empty: none sent")
    smtp_port: int = Field(587, gt=0, lt=65536, description="mail server port")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls, ssl (implicit TLS, port 465) or none"
    )
    smtp_user: str = Field("", description="mail server log-in; empty: none")
    smtp_password: str = Field("", description="mail server password")
    smtp_from: str = Field("", description="the messages' From address, e.g. desk@clinic.example")
    sms_webhook_url: str = Field(
        "", description="SMS gateway webhook: POSTed {to, text, message_id}; empty: none sent"
    )
    sms_webhook_token: str = Field("", description="sent as 'Authorization: Bearer <token>'")
    message_max_attempts: int = Field(
        5, gt=0, description="tries before a message is marked failed"
    )
    message_retry_seconds: float = Field(
        60.0, gt=0, description="wait before the first retry; doubles after each failure"
    )
    message_poll_seconds: float = Field(
        15.0, gt=0, description="how often serve looks for messages that are due"
    )
    config_file: str = Field("", description="(set by hms-desktop: the file that was read)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `Settings(...)` is exactly what it is given (tests, tools); `load_settings` is what
        # reads the file and the environment, so it can name each value's source.
        return (init_settings,)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", "trusted_proxies", "message_channels", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/London)") from error
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a known country code for phone numbers (e.g. GB)")
        return region

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{data_dir() / 'hms.sqlite3'}"

    @property
    def desk_label(self) -> str:
        return (self.desk_name.strip() or platform.node() or "this desk")[:60]

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

    @property
    def log_folder(self) -> Path:
        return Path(self.log_dir) if self.log_dir else default_log_dir()

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some values changed (validated like any other)."""
        return type(self)(**{**self.model_dump(), **changes})

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets hidden, for `hms-desktop check`."""
        shown = self.model_dump()
        shown["database_url"] = _mask_url(self.effective_database_url)
        shown["redis_url"] = _mask_url(self.redis_url)
        shown["secret_key"] = "(default)" if self.has_default_secret else "****"
        for secret in ("smtp_password", "sms_webhook_token"):
            shown[secret] = "****" if shown[secret] else ""
        # Gateways often take their key in the URL (user:key@host, ?api_key=...).
        webhook = _mask_url(self.sms_webhook_url)
        shown["sms_webhook_url"] = webhook.split("?", 1)[0] + "?****" if "?" in webhook else webhook
        return shown


def _mask_url(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


# Settings a file or a variable may set (config_file is the loader's own record).
CONFIGURABLE = [name for name in Settings.model_fields if name != "config_file"]


class ConfigError(Exception):
    """A configuration that cannot be used; each line names a setting and where it came from."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _EnvironmentSource(EnvSettingsSource):
    """HMS_* variables from a given mapping (os.environ, or a test's dictionary)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings, env_prefix=ENV_PREFIX, case_sensitive=False)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}: not valid TOML ({error})"]) from error
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror})"]) from error
    unknown = [key for key in document if key not in CONFIGURABLE]
    if unknown:
        raise ConfigError([f"{path}: unknown setting {_unknown(key)}" for key in unknown])
    return document


def _unknown(key: str) -> str:
    close = difflib.get_close_matches(key, CONFIGURABLE, n=1)
    return f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)


def _describe(error: Any) -> str:
    """One validation problem in plain words."""
    value = error.get("input")
    kind = error["type"]
    if kind in ("float_parsing", "float_type"):
        return f"{value!r} is not a number"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{value!r} is not a whole number"
    if kind == "literal_error":
        return f"{value!r} is not one of {error['ctx']['expected']}"
    if kind.startswith("greater_than") or kind.startswith("less_than"):
        return f"{value!r}: {error['msg'].lower()}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{value!r}: {error['msg']}"


def config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The configuration file to read, and whether HMS_CONFIG named it."""
    if environ.get("HMS_CONFIG"):
        return Path(environ["HMS_CONFIG"]), True
    return default_config_path(), False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults < the TOML file < HMS_* variables. Raises ConfigError naming each bad value
    and its source ("HMS_HOLD_TTL_MINUTES: 'five' is not a number")."""
    env = os.environ if environ is None else environ
    path, named = config_path(env)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if path.is_file():
        for key, value in _read_file(path).items():
            values[key], sources[key] = value, f"{path}: {key}"
        values["config_file"] = str(path)
    elif named:
        raise ConfigError([f"HMS_CONFIG: {path} does not exist"])
    for key, value in _EnvironmentSource(env)().items():
        if key in CONFIGURABLE:
            values[key], sources[key] = value, f"{ENV_PREFIX}{key.upper()}"
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else ""
            problems.append(f"{sources.get(field, field)}: {_describe(problem)}")
        raise ConfigError(problems) from None


# What `config init --central` fills in: the values a clinic server and its desks must set.
_CENTRAL_VALUES = {
    "database_url": "postgresql+psycopg://hms:CHANGE-ME@db.clinic.lan:5432/hms",
    "redis_url": "redis://cache.clinic.lan:6379/0",
    "public_url": "https://hms.clinic.example",
}


def config_template(*, central: bool = False) -> str:
    """A commented config.toml with every setting at its default; `central` fills in the
    central database, Redis, the server's public address (placeholders to edit) and a fresh
    random secret key (for the server and its desks)."""
    import secrets

    lines = [
        "# hms-desktop configuration (TOML). A commented line shows the default; remove the",
        "# '# ' to change it. HMS_<NAME> environment variables override this file.",
    ]
    central_values = {**_CENTRAL_VALUES, "secret_key": secrets.token_urlsafe(48)}
    for name in CONFIGURABLE:
        field = Settings.model_fields[name]
        default = field.default
        lines += ["", f"# {field.description}"]
        if central and name in central_values:
            lines.append(f"{name} = {_toml_value(central_values[name])}")
        else:
            lines.append(f"# {name} = {_toml_value(default)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)
