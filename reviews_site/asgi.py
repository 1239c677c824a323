import os

from django.core.asgi import get_asgi_application

from reviews_site.serving import require_site_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviews_site.settings")
require_site_url()
application = get_asgi_application()
