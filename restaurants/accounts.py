"""Sign-up, login (throttled), logout, and the account: email address,
password change (throttled like logins) and password reset by email
(throttled per address and client and per client).

Password change and reset are Django's own views and forms on our DynamoDB
users: the forms save the password alone (``forms.PasswordSaveMixin``), which
fences the cached profile, so every other session of the account ends at its
next request (Django compares each session with the password hash); the one
that changed it is kept (``update_session_auth_hash``). A reset finds accounts
through the email lookup items (``restaurants/dynamo/users.py``) and never
tells whether an address has an account: the same page, the same throttle,
the same time (its mail is sent after the answer).
"""

import logging
import math
import threading
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_http_methods

from . import services
from .error_pages import (
    LOGIN_NOT_SAVED,
    LOGOUT_NOT_SAVED,
    OTHER_SESSIONS_ENDED_SESSION_LOST,
    PASSWORD_CHANGED_SESSION_LOST,
    RETRY_AFTER_SECONDS,
    SIGNUP_LOGIN_NOT_SAVED,
    SIGNUP_NOT_CONFIRMED,
    form_unavailable,
    not_found,
    session_not_saved,
)
from .errors import AlreadyExists, DataError, SessionUnavailable, ThrottleUnavailable, Unavailable
from .forms import EmailForm, LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm, SignupForm
from .models import User, username_validator

logger = logging.getLogger(__name__)
# The name of the threads that run after an answer was sent (a test waits for them by it).
AFTER_RESPONSE_THREAD = "after-response"


def signup(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = SignupForm(request.POST or None)
    try:
        user = _signed_up(request, form) if request.method == "POST" and form.is_valid() else None
    except Unavailable:
        form.add_error(None, SIGNUP_NOT_CONFIRMED)
        return form_unavailable(request, "accounts/signup.html", {"form": form, "next": _next_url(request)})
    if user is not None:
        try:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        except SessionUnavailable:
            return session_not_saved(request, SIGNUP_LOGIN_NOT_SAVED)
        messages.success(request, f"Welcome, {user.username}! Your account is ready.")
        return HttpResponseRedirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request)}, status=status)


def _signed_up(request, form: SignupForm) -> User | None:
    """The new account, or the one an earlier try of this very sign-up made
    (its answer lost to a timeout); None, with the form told why, if the name
    is someone else's."""
    data = form.cleaned_data
    try:
        return User.objects.create_user(data["username"], data["email"], data["password1"])
    except AlreadyExists:
        # Their own account, if the password matches: an earlier try was saved but
        # its answer lost (a timeout, a session store that failed). Not "taken".
        user = authenticate(request, username=data["username"], password=data["password1"])
        if user is None:
            form.add_error("username", "That username is taken. Please choose another.")
        return user


class LoginView(auth_views.LoginView):
    """Django's login view, throttled per account and client, and per client
    (restaurants/cache/accounts/ratelimit.py): each attempt is counted before its
    password is checked, and one over the limit gets a 429 page. While the
    counters cannot be reached, every attempt gets a 503 page before its
    password is checked (fail closed)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = User.normalize_username(request.POST.get("username", ""))
        return _login_throttled(request, username, partial(super().post, request, *args, **kwargs))

    def form_invalid(self, form):
        status = 503 if form.has_error(NON_FIELD_ERRORS, "unavailable") else 400
        response = self.render_to_response(self.get_context_data(form=form), status=status)
        if status == 503:
            response["Retry-After"] = RETRY_AFTER_SECONDS
        return response

    def form_valid(self, form):
        services.login_succeeded(username=form.get_user().username, client=client_address(self.request))
        messages.success(self.request, f"Welcome back, {form.get_user().username}.")
        try:
            return super().form_valid(form)  # rotates the session: a new key saved
        except SessionUnavailable:
            return session_not_saved(self.request, LOGIN_NOT_SAVED)


def _login_throttled(request, username: str, check_password):
    """``check_password()`` unless the login counters of ``username`` and this
    client say wait (429, pointing to the password reset) or cannot be read (503)."""
    try:
        wait = services.login_attempt_reserve(username=username, client=client_address(request))
        if wait:
            context = {"minutes": max(1, round(wait / 60))}
            response = render(request, "accounts/too_many_attempts.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return check_password()
    except ThrottleUnavailable:
        response = render(request, "accounts/login_unavailable.html", status=503)
        response["Retry-After"] = str(math.ceil(settings.CACHE_RETRY_AFTER_SECONDS))
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5's LogoutView refuses GET). The session is deleted
    from DynamoDB first: if it cannot be, the visitor is told they are still
    signed in, never shown a logout that a restored Redis could undo. Then
    it redirects to ``logged_out`` (``LOGOUT_REDIRECT_URL``), which says so."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except SessionUnavailable:
            return session_not_saved(request, LOGOUT_NOT_SAVED, title="Not logged out")


@require_http_methods(["GET", "HEAD"])
def logged_out(request):
    """Where a logout lands: a page of its own that says "You are logged out",
    not a message, which would need a new session (written to DynamoDB) for
    every logout. Only a visitor who is logged out is told so; one who is
    logged in (another tab logged in again) is sent to the restaurants."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("restaurants:list"))
    return render(request, "accounts/logged_out.html")


@require_http_methods(["GET", "POST"])
@login_required
def account(request):
    """The signed-in user's account: their email address (optional; it is
    what a password reset mails) and the way to change their password. Read
    from DynamoDB, not the cached profile: it shows what is stored now."""
    try:
        user = User.objects.get_for_login(request.user.username)
    except User.DoesNotExist:
        return not_found(request, message="Your account does not exist any more.")
    form = EmailForm(request.POST or None, initial={"email": user.email})
    if request.method == "POST" and form.is_valid():
        services.user_email_set(user=user, email=form.cleaned_data["email"])
        messages.success(request, "Your email address is saved." if user.email else "Your email address is removed.")
        return HttpResponseRedirect(reverse("accounts:account"))
    status = 400 if form.errors else 200
    return render(request, "accounts/account.html", {"form": form, "account": user}, status=status)


@require_http_methods(["POST"])
@login_required
def end_other_sessions(request):
    """Log the account out everywhere but here (a lost phone, a shared
    computer): the profile's session epoch is raised in DynamoDB first, so
    no session elsewhere, in Redis or restored from a snapshot, passes its
    check again; this one is given the new hash."""
    user = User.objects.get_for_login(request.user.username)
    services.user_sessions_end(user=user)
    try:
        update_session_auth_hash(request, user)
    except SessionUnavailable:
        return session_not_saved(request, OTHER_SESSIONS_ENDED_SESSION_LOST, title="Logged out", status=200)
    messages.success(request, "Your other sessions are logged out.")
    return HttpResponseRedirect(reverse("accounts:account"))


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, on the user as DynamoDB has it now; each try of the old
    password counts as a login attempt (the same counters and limits), so a
    borrowed session cannot be used to guess it."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:account")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": User.objects.get_for_login(self.request.user.username)}

    def post(self, request, *args, **kwargs):
        return _login_throttled(request, request.user.username, partial(super().post, request, *args, **kwargs))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        try:
            response = super().form_valid(form)  # saves, and keeps this session
        except SessionUnavailable:  # the password is saved; this session could not be kept
            return session_not_saved(self.request, PASSWORD_CHANGED_SESSION_LOST, title="Password changed", status=200)
        services.login_succeeded(username=form.user.username, client=client_address(self.request))
        messages.success(self.request, "Your password is changed. Your other sessions are logged out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for an address and mails a one-time link to each active account
    that gave it. Throttled per address and client and per client, like
    logins; past an address's mail cap, no mail. Whether an account has the
    address, and whether a mail went out, the answer is the same page."""

    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            allowance = services.password_reset_reserve(
                email=form.cleaned_data["email"], client=client_address(self.request)
            )
        except ThrottleUnavailable:
            response = render(self.request, "accounts/password_reset_unavailable.html", status=503)
            response["Retry-After"] = str(math.ceil(settings.CACHE_RETRY_AFTER_SECONDS))
            return response
        if allowance.wait:
            context = {"minutes": max(1, round(allowance.wait / 60))}
            response = render(self.request, "accounts/password_reset_throttled.html", context, status=429)
            response["Retry-After"] = str(allowance.wait)
            return response
        send = form.prepare(  # the one DynamoDB Query, whether or not the address has an account
            domain_override=urlsplit(settings.SITE_URL).netloc,  # never the request's Host: the client sets that
            subject_template_name=self.subject_template_name,
            email_template_name=self.email_template_name,
            token_generator=self.token_generator,
            from_email=self.from_email,
            extra_email_context={
                "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
                "site_url": settings.SITE_URL,
            },
        )
        # Past the address's mail cap: the same answer, no mail.
        return RedirectThenRun(self.get_success_url(), then=partial(_mail, send) if allowance.mail else None)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _mail(send) -> None:
    """Run after the answer, in a thread of its own: nobody is left to tell of a
    failure, so it is logged (Django logs a mail the backend refused)."""
    try:
        send()
    except DataError:
        logger.exception("password reset: the accounts of an address could not be read; no mail sent")


class RedirectThenRun(HttpResponseRedirect):
    """A redirect that starts ``then`` in a new thread once it has been sent:
    a WSGI server calls ``close()`` after the last byte (PEP 3333; gunicorn
    does, and so does Django's test client). A password reset mails from
    there, so an address with an account is not answered later than one
    without (reading its profile, the token, the mail's rendering and sending
    made it about 8 ms slower with the console backend, an SMTP exchange more
    in production). Not a daemon thread: a worker that exits waits for it."""

    def __init__(self, url: str, *, then: Callable[[], None] | None):
        super().__init__(url)
        self._then = then

    def close(self) -> None:
        super().close()
        then, self._then = self._then, None
        if then is not None:
            threading.Thread(target=then, name=AFTER_RESPONSE_THREAD).start()


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's (the token checked, then moved out of the URL into the
    session), finding the user in DynamoDB: ``uidb64`` is the username."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64):
        try:
            username = urlsafe_base64_decode(uidb64).decode()
            username_validator(username)  # nothing else is a key worth a request
            return User.objects.get_for_login(username)
        except (ValueError, ValidationError, User.DoesNotExist):
            return None

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        response = super().form_valid(form)
        try:  # whoever can read the mail may log in again at once from here
            services.login_succeeded(username=form.user.username, client=client_address(self.request))
        except ThrottleUnavailable:
            pass  # the password is changed; the counters end with their window
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


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
