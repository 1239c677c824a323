"""Sign-up, login (throttled) and logout."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from . import services
from .errors import AlreadyExists, ThrottleUnavailable
from .forms import SignupForm
from .models import User


def signup(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = User.objects.create_user(
                form.cleaned_data["username"], form.cleaned_data["email"], form.cleaned_data["password1"]
            )
        except AlreadyExists:
            # Their own account, if the password matches: an earlier try was saved but
            # its answer lost (a timeout, a session store that failed). Not "taken".
            user = authenticate(
                request, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
            if user is None:
                form.add_error("username", "That username is taken. Please choose another.")
        if user is not None:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return HttpResponseRedirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request)}, status=status)


class LoginView(auth_views.LoginView):
    """Django's login view, throttled per account and client, and per client
    (restaurants/cache/ratelimit.py): each attempt is counted before its
    password is checked, and one over the limit gets a 429 page. While the
    counters cannot be reached, every attempt gets a 503 page before its
    password is checked (fail closed)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        try:
            return self._throttled_post(request, *args, **kwargs)
        except ThrottleUnavailable:
            response = render(request, "accounts/login_unavailable.html", status=503)
            response["Retry-After"] = str(math.ceil(settings.CACHE_RETRY_AFTER_SECONDS))
            return response

    def _throttled_post(self, request, *args, **kwargs):
        wait = services.login_attempt_reserve(**self._attempt(request))
        if wait:
            response = render(
                request,
                "accounts/too_many_attempts.html",
                {"minutes": max(1, round(wait / 60))},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        services.login_succeeded(**self._attempt(self.request))
        messages.success(self.request, f"Welcome back, {form.get_user().username}.")
        return super().form_valid(form)

    @staticmethod
    def _attempt(request) -> dict[str, str]:
        """The account and the client a login attempt counts against."""
        return {
            "username": User.normalize_username(request.POST.get("username", "")),
            "client": client_address(request),
        }


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5's LogoutView refuses GET)."""

    template_name = "accounts/logged_out.html"


def client_address(request) -> str:
    """The visitor's address: the peer's, or, behind ``TRUSTED_PROXY_COUNT``
    proxies, the one the outermost of them saw (X-Forwarded-For, counted from
    the right: the entries to its left are whatever the client sent)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _next_url(request) -> str:
    """Where to go after signing up: ``next`` if it stays on this site. It is a
    URL, never a view name, so it is redirected to as it is: ``redirect("0")``
    would look for a view called "0" and fail with NoReverseMatch (a 500)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL
