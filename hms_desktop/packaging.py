"""`hms-desktop package --out DIR`: the one-folder build IT installs on workstations and
servers (PyInstaller, spec in resources/packaging/), its archive with a SHA-256 file, a
.desktop launcher and the app icon. Runs from a source checkout with the `[package]` extra."""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import hms_desktop

SOURCE_ROOT = Path(hms_desktop.__file__).resolve().parents[1]
PACKAGING = SOURCE_ROOT / "resources" / "packaging"
SPEC = PACKAGING / "hms-desktop.spec"
APP_NAME = "hms-desktop"


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a command's own output


def platform_tag() -> str:
    """linux-x86_64, windows-amd64, darwin-arm64: the machine kind the build runs on."""
    return f"{platform.system().lower()}-{platform.machine().lower()}"


def folder_size(folder: Path) -> int:
    """Bytes on disk; PyInstaller links some libraries twice (symlinks): counted once."""
    return sum(
        path.lstat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _archive(folder: Path, out: Path) -> Path:
    name = f"{APP_NAME}-{hms_desktop.__version__}-{platform_tag()}"
    if sys.platform == "win32":
        return Path(shutil.make_archive(str(out / name), "zip", out, folder.name))
    archive = out / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def build_package(out: Path) -> int:
    """Build into `out`; print where everything is, the build's size and how long it took."""
    if not SPEC.is_file():
        _say(f"error: packaging needs a source checkout ({SPEC} not found)")
        return 1
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        _say("error: the build tools are missing: pip install -e '.[package]'")
        return 1
    out = out.expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hms-build-") as work:
        subprocess.run(
            [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level=WARN",
             "--distpath", str(out), "--workpath", work, str(SPEC)],
            check=True,
        )  # fmt: skip
    folder = out / APP_NAME
    shutil.copy2(PACKAGING / f"{APP_NAME}.desktop", folder / f"{APP_NAME}.desktop")
    shutil.copy2(SOURCE_ROOT / "resources" / "icons" / "app.svg", folder / f"{APP_NAME}.svg")
    archive = _archive(folder, out)
    checksum = archive.with_name(archive.name + ".sha256")
    checksum.write_text(f"{sha256_of(archive)}  {archive.name}\n", encoding="ascii")
    _say(f"built {folder / APP_NAME} in {time.monotonic() - started:.0f} s")
    unpacked, packed = folder_size(folder) / 1e6, archive.stat().st_size / 1e6
    _say(f"size: {unpacked:.0f} MB unpacked; archive {archive} {packed:.0f} MB")
    _say(f"checksum: {checksum}")
    return 0
