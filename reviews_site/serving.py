"""What the site checks before it serves a request (``wsgi.py``, ``asgi.py``),
rather than at every import of the settings: management commands (``make
run``'s own, ``createsuperuser`` in a second shell) send no mail and need no
``SITE_URL``."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_site_url() -> None:
    """Links in mail come from ``SITE_URL``, never from the request: refuse to serve without it."""
    if not settings.DEBUG and not settings.SITE_URL:
        raise ImproperlyConfigured(
            "SITE_URL is not set: the address visitors reach the site at (https://reviews.example.com),"
            " for the links in password-reset mails. Set it, or DJANGO_DEBUG=true for development."
        )
