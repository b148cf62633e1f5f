"""hms-desktop: clinic reception system."""

__version__ = "0.1.0"
# Bumped when the desk API changes incompatibly; remote desktops refuse other majors.
API_VERSION = "1.0"
