from django.urls import path

from . import accounts, converters, views  # noqa: F401 (converters registers <name:...>)

app_name = "restaurants"

urlpatterns = [
    path("", views.restaurant_list, name="list"),
    path("top/", views.top_restaurants, name="top"),
    path("search/", views.restaurant_search, name="search"),
    path("restaurants/<name:name>/", views.restaurant_detail, name="detail"),
    path("restaurants/<name:name>/reviews/", views.restaurant_reviews, name="reviews"),
    path("restaurants/<name:name>/review/", views.review_create, name="review_create"),
    path("restaurants/<name:name>/review/edit/", views.review_edit, name="review_edit"),
    path("restaurants/<name:name>/review/delete/", views.review_delete, name="review_delete"),
    path("users/<name:username>/", views.user_reviews, name="user"),
]

account_patterns = (
    [
        path("signup/", accounts.signup, name="signup"),
        path("login/", accounts.LoginView.as_view(), name="login"),
        path("logout/", accounts.LogoutView.as_view(), name="logout"),
        path("logged-out/", accounts.logged_out, name="logged_out"),
        path("", accounts.account, name="account"),
        path("sessions/end/", accounts.end_other_sessions, name="end_other_sessions"),
        path("password/", accounts.PasswordChangeView.as_view(), name="password_change"),
        path("password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
        path("password/reset/sent/", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path("password/reset/done/", accounts.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
        path(
            "password/reset/<uidb64>/<token>/",
            accounts.PasswordResetConfirmView.as_view(),
            name="password_reset_confirm",
        ),
    ],
    "accounts",
)
