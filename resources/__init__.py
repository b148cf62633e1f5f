"""The desktop's style sheet and icons, installed as the package `hms_desktop_resources`."""
