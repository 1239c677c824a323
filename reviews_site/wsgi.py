import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviews_site.settings")
django_application = get_wsgi_application()

# Anonymous page-cache hits are answered in front of Django (restaurants/cache/wsgi.py).
from restaurants.cache.wsgi import PageCacheApplication  # noqa: E402

application = PageCacheApplication(django_application)
