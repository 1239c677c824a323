"""Error pages, and the middleware that maps model-layer errors onto them."""

import logging

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.session import SessionStorage
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.shortcuts import render
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from .errors import DataError, InvalidCursor, NotAuthorized, NotFound, SessionUnavailable, Unavailable

log = logging.getLogger(__name__)
SESSION_DOWN = "Our session store did not answer, so we cannot tell who you are just now. Please try again in a moment."
LOGIN_NOT_SAVED = (
    "We could not sign you in just now: our session store did not answer. Please log in again in a moment."
)
SIGNUP_LOGIN_NOT_SAVED = (
    "Your account is made, but we could not sign you in just now: our session store did not answer. "
    "Please log in in a moment."
)
LOGOUT_NOT_SAVED = (
    "We could not log you out just now: our session store did not answer, so you are still signed in. "
    "Please try again in a moment."
)
# Done, but this session could not be given the account's new hash: it ends at its next request.
PASSWORD_CHANGED_SESSION_LOST = (
    "Your password is changed and your other sessions are logged out. Our session store did not answer, "
    "so this one is logged out too: please log in with your new password."
)
OTHER_SESSIONS_ENDED_SESSION_LOST = (
    "Your other sessions are logged out. Our session store did not answer, so this one is logged out too: "
    "please log in again."
)
RETRY_AFTER_SECONDS = "5"
# What a form's 503 says. Never "not saved" after a write was sent: a write that timed out may
# still be applied (DynamoDB applies a request held in a stall once it resumes).
REVIEW_NOT_CONFIRMED = (
    "We could not confirm that your review was saved: our database did not answer in time, and it may "
    "still appear in a moment. Your text is kept below. Posting it again is safe: it is published once, never twice."
)
EDIT_NOT_CONFIRMED = (
    "We could not confirm that your change was saved: our database did not answer in time, and it may "
    "still appear in a moment. Your text is kept below. Saving it again is safe: it is applied once."
)
EDIT_NOT_SAVED = (
    "We could not save your change: our database did not answer in time, so nothing was changed. "
    "Your text is kept below: please save it again in a moment."
)
SIGNUP_NOT_CONFIRMED = (
    "We could not confirm that your account was created: our database did not answer in time. "
    "Your details are kept below; type your password again. Signing up again is safe: "
    "if the account was made, you are logged in to it."
)
LOGIN_UNAVAILABLE = (
    "We could not check your password just now: our database did not answer in time. Please log in again in a moment."
)
FORM_NOT_CONFIRMED = (
    "Our data store did not answer in time, so we cannot tell whether this was saved. What you typed is kept "
    "below (passwords excepted: they are never shown again). Sending it again is safe: nothing is saved twice."
)
# Posted fields a resend form carries unseen (the review form's idempotency token, the way back).
_RESENT_HIDDEN = {"submission", "next"}


def bad_request(request, exception=None, message: str = "That request could not be understood."):
    return _error(request, 400, "Bad request", message)


def not_found(request, exception=None, message: str = "We could not find that page."):
    return _error(request, 404, "Not found", message)


def server_error(request):
    return _error(request, 500, "Something went wrong", "Please try again in a moment.")


def service_unavailable(request, message: str = "We could not reach our data store. Please try again in a moment."):
    return _error(request, 503, "Temporarily unavailable", message)


def _error(request, status: int, title: str, message: str, *, without_session: bool = False, **extra):
    context = {"status": status, "title": title, "message": message, **extra}
    if without_session:  # rendering must not read the session that just failed
        context.update(user=AnonymousUser(), messages=[])
    response = render(request, "error.html", context, status=status)
    if status == 503:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def form_unavailable(request, template: str, context: dict):
    """A form page re-rendered with what was typed and why it is a 503 (the
    message is the form's non-field error, set by the view)."""
    response = render(request, template, context, status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def post_not_confirmed(request):
    """The 503 of a POST that failed where no view could re-render its own
    form: a form that sends the same fields again to the same address, so
    nothing typed is lost. Passwords are never written into a page, and the
    CSRF token is the page's own. Rendered without the session or the user,
    whose reads may be what failed."""
    hidden, shown = [], []
    for name, values in request.POST.lists():
        if name == "csrfmiddlewaretoken" or "password" in name.lower():
            continue
        for value in values:
            if name in _RESENT_HIDDEN:
                hidden.append((name, value))
            else:
                shown.append((name, value, "\n" in value or len(value) > 80))  # a textarea, else one line
    return _error(
        request,
        503,
        "Not confirmed",
        FORM_NOT_CONFIRMED,
        without_session=True,
        resend={"action": request.get_full_path(), "hidden": hidden, "shown": shown},
    )


def session_not_saved(request, message: str, *, title: str = "Not signed in", status: int = 503):
    """A login, logout or hash update whose session could not be saved: what
    was done and what was not, rendered without the session that failed."""
    return _error(request, status, title, message, without_session=True)


def session_unavailable(request):
    # A review posted when we cannot tell who wrote it: at least give the words back.
    kept = request.POST.get("review", "") if request.method == "POST" else ""
    return _error(request, 503, "Temporarily unavailable", SESSION_DOWN, without_session=True, kept=kept)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except when the session cannot be saved after the view ran.

    The view's work is done by then (a review is in DynamoDB), so the visitor
    is told exactly that: the confirmation the view queued for the next page
    is shown right here, with the link the view redirected to. Only a login
    made in this request, which lives in the session alone, is reported as
    not done (503). Never a 500 for a write that happened."""

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionUnavailable as error:
            log.warning("Session not saved after %s %s: %s", request.method, request.path, error)
            return _unsaved_session_response(request, response)


def _unsaved_session_response(request, response):
    session = request.session
    # A login rotates the session key: a key other than the cookie's, holding a user.
    logged_in_now = SESSION_KEY in session and session.session_key != request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    done = [str(message) for message in SessionStorage(request)._get()[0] or []]
    if logged_in_now:
        return session_not_saved(request, " ".join([*done, LOGIN_NOT_SAVED]))
    if not done:
        return response
    context = {"user": AnonymousUser(), "messages": [], "done": done, "next": response.get("Location", "/")}
    return render(request, "session_not_saved.html", context, status=200)


class DataErrorMiddleware:
    """Turns the model layer's errors into proper error pages, so a missing
    restaurant is a 404, a forged cursor a 400 and an outage a 503 - never a 500.

    A ``DataError`` no view handled is an outage to the visitor too (503, the
    usual words), and logged as an error with its code, operation, table and
    request id: an unknown code, a refused request, a table that is not there
    (DynamoDB's own NotFound, which carries a code: the page may well exist)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound) and exception.code is None:
            return not_found(request, message=str(exception))
        if isinstance(exception, InvalidCursor):
            return bad_request(request, message=str(exception))
        if isinstance(exception, SessionUnavailable):
            log.warning("Session unavailable: %s", exception)
            return session_unavailable(request)
        if isinstance(exception, Unavailable | RedisError | ConnectionInterrupted):
            # Refused credentials or permissions will not mend themselves: an operator must look.
            level = logging.ERROR if isinstance(exception, NotAuthorized) else logging.WARNING
            log.log(level, "Service unavailable: %s: %s", type(exception).__name__, exception)
            return _outage(request)
        if isinstance(exception, DataError):
            log.error("Data error no view handled: %s: %s", type(exception).__name__, exception, exc_info=exception)
            return _outage(request)
        return None


def _outage(request):
    if request.method == "POST":
        return post_not_confirmed(request)
    return service_unavailable(request)
