"""Remote mode: the `Backend` interface over the REST server's desk API (`/desk/v1`)."""

from hms_desktop.client.backend import RemoteBackend
from hms_desktop.client.transport import IncompatibleServer, NotAClinicServer

__all__ = ["IncompatibleServer", "NotAClinicServer", "RemoteBackend"]
