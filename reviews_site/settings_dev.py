"""Development settings: production's, plus the development tools app.

``make run``, ``make bench`` and the tests use these; they add the commands
that start embedded services and seed demo data. Nothing else differs, so
what runs locally is what ships.
"""

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
