"""The errors `perfctl serve` turns into one line and exit 3; the backend's own tree.

    ServeError                  the backend could not start or serve
    ├── SettingsError           a setting cannot work (a URL's scheme, a worker without settings)
    ├── ListenError             the address cannot be bound (port in use, unknown host)
    ├── DatabasePrepareError    the database could not be created or seeded
    └── StartupError            the workers did not come up

The system under test never imports the harness: the CLI's `serve` command maps this tree
onto the harness's `BackendError`. Every message is one line a person reads at the terminal.
"""

from __future__ import annotations


class ServeError(Exception):
    """The reference backend could not start or serve; the message is one line."""


class SettingsError(ServeError):
    """A setting cannot work as given; the message names the option and quotes the value."""


class ListenError(ServeError):
    """The listening socket cannot be bound: the port is in use or the host is unknown."""


class DatabasePrepareError(ServeError):
    """The database could not be created or seeded (PostgreSQL unreachable, disk full...)."""


class StartupError(ServeError):
    """The workers did not come up; uvicorn has already logged why."""
