"""Sign-up, login (throttled) and logout."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from .cache import keys as cache_keys
from .cache import ratelimit
from .dynamo.errors import AlreadyExists
from .forms import SignupForm
from .models import User


def signup(request):
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = User.objects.create_user(
                form.cleaned_data["username"], form.cleaned_data["email"], form.cleaned_data["password1"]
            )
        except AlreadyExists:
            form.add_error("username", "That username is taken. Please choose another.")
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request)}, status=status)


class LoginView(auth_views.LoginView):
    """Django's login view, refusing more than a few failures per window, per
    username and per client IP. A refused attempt gets a 429 page."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        counters = self._counter_keys(request)
        blocked = [key for key, limit in counters if ratelimit.count(key) >= limit]
        if blocked:
            wait = max(ratelimit.retry_after(key) for key in blocked)
            response = render(
                request,
                "accounts/too_many_attempts.html",
                {"minutes": max(1, round(wait / 60))},
                status=429,
            )
            response["Retry-After"] = str(wait or settings.LOGIN_FAILURE_WINDOW)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key, _ in self._counter_keys(self.request):
            ratelimit.increment(key, window=settings.LOGIN_FAILURE_WINDOW)
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        ratelimit.reset(cache_keys.login_failures_by_username_key(form.get_user().username))
        messages.success(self.request, f"Welcome back, {form.get_user().username}.")
        return super().form_valid(form)

    @staticmethod
    def _counter_keys(request) -> list[tuple[str, int]]:
        username = User.normalize_username(request.POST.get("username", ""))
        return [
            (cache_keys.login_failures_by_username_key(username), settings.LOGIN_FAILURES_PER_USERNAME),
            (cache_keys.login_failures_by_ip_key(request.META.get("REMOTE_ADDR", "")), settings.LOGIN_FAILURES_PER_IP),
        ]


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5's LogoutView refuses GET)."""

    template_name = "accounts/logged_out.html"


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL
