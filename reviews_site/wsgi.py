import os

from django.core.wsgi import get_wsgi_application

from reviews_site.serving import require_site_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviews_site.settings")
require_site_url()
django_application = get_wsgi_application()

# Anonymous page-cache hits are answered in front of Django (restaurants/cache/front/wsgi.py).
from restaurants.cache.front.wsgi import PageCacheApplication  # noqa: E402

application = PageCacheApplication(django_application)
