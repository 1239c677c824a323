from functools import partial

from django.contrib.admin import AdminSite
from django.urls import path

from restaurants import converters  # noqa: F401 (registers <name:...>)

from . import views

# Django's admin views that read ORM tables, which this site has none of (DATABASES is empty):
# "view on site" looks its object up through ContentType, a query that fails with a 500.
ORM_VIEWS = {"view_on_site"}


class StaffAdminSite(AdminSite):
    site_header = "Tastebook staff"
    site_title = "Tastebook staff"
    index_title = "Cache dashboard"
    enable_nav_sidebar = False  # it lists ORM models, and we register none

    def has_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def index(self, request, extra_context=None):
        return views.dashboard(self, request)

    def get_urls(self):
        def staff(view):
            return self.admin_view(partial(view, self))

        return [
            path("cache/<slug:slug>/", staff(views.cache_action), name="cache_action"),
            path("restaurants/", staff(views.restaurant_list), name="restaurants"),
            path("restaurants/add/", staff(views.restaurant_add), name="restaurant_add"),
            path("restaurants/<name:name>/", staff(views.restaurant_edit), name="restaurant"),
            path(
                "restaurants/<name:name>/reviews/<name:username>/delete/",
                staff(views.review_delete),
                name="review_delete",
            ),
            path("users/", staff(views.user_search), name="users"),
            path("users/<name:username>/", staff(views.user_account), name="user"),
            *(url for url in super().get_urls() if getattr(url, "name", None) not in ORM_VIEWS),
        ]


staff_site = StaffAdminSite(name="staff")
