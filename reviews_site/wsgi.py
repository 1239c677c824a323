import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviews_site.settings")
# Links in mail come from SITE_URL, never from the request: refuse to serve without it.
if not settings.DEBUG and not settings.SITE_URL:
    raise ImproperlyConfigured(
        "SITE_URL is not set: the address visitors reach the site at (https://reviews.example.com),"
        " for the links in password-reset mails. Set it, or DJANGO_DEBUG=true for development."
    )
django_application = get_wsgi_application()

# Anonymous page-cache hits are answered in front of Django (restaurants/cache/wsgi.py).
from restaurants.cache.wsgi import PageCacheApplication  # noqa: E402

application = PageCacheApplication(django_application)
