"""Entry point of the packaged build (PyInstaller freezes this script)."""

import multiprocessing

from hms_desktop.cli import main

if __name__ == "__main__":
    # A frozen executable is also what `multiprocessing` starts for a child process (uvicorn
    # workers, benchmark desks): freeze_support() runs that child's task and exits instead of
    # starting the app a second time. It does nothing outside a frozen build.
    multiprocessing.freeze_support()
    raise SystemExit(main())
