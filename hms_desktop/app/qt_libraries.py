"""Before Qt starts on Linux: are the system libraries its xcb platform plugin needs there?

Without them Qt aborts the process (exit 134) and its message names only the first one
missing, so a desk would install one package, try again, and abort again. The desktop
looks for every one first and names them all, with the command that installs them."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# The shared library Qt's xcb plugin loads, and the Debian/Ubuntu package that ships it
# (debian-packages.txt holds the same list for the README's install command and CI).
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def _loads(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will pick its xcb plugin: on Linux, unless another platform is asked for
    (offscreen in tests, wayland) or a Wayland session leaves the choice to Qt."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def missing_packages(loads: Callable[[str], bool] | None = None) -> list[str]:
    """The packages whose libraries cannot be loaded, in a stable order."""
    loads = loads or _loads
    return [package for library, package in XCB_LIBRARIES.items() if not loads(library)]


def missing_libraries_message(packages: list[str]) -> str:
    return (
        "The desktop cannot open its window: Qt needs these system libraries, which are "
        f"not installed: {', '.join(packages)}.\n"
        "On Debian or Ubuntu install them with:\n"
        f"    sudo apt-get install {' '.join(packages)}\n"
        "(other Linux systems ship the same libraries under similar names), then start "
        "hms-desktop again."
    )


def problem(
    environ: Mapping[str, str] | None = None, loads: Callable[[str], bool] | None = None
) -> str | None:
    """What to tell the desk before Qt starts, or None when Qt can start."""
    if not uses_xcb(os.environ if environ is None else environ):
        return None
    packages = missing_packages(loads)
    return missing_libraries_message(packages) if packages else None
