"""Start the hms-desktop reception app: `python main.py [--screenshot DIR]`."""

from hms_desktop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
