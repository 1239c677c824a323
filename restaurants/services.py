"""Writes, as the site and the staff admin perform them.

Each write goes to DynamoDB first; the caches it affects are put right in the
same function, right after the write succeeded, so no view or admin page ever
has to remember which caches a change touches. The cache actions staff run
from the dashboard (flush, purge, warm, rebuild) are writes to Redis and live
here too, beside the audit trail that records them.
"""

import contextlib
import logging
import re
from typing import NamedTuple

from django.conf import settings
from django.core import signing

from .cache import invalidation
from .cache.accounts import ratelimit
from .cache.data import leaderboard
from .cache.operations import flush, warming
from .cache.operations.flush import FlushReport
from .cache.operations.warming import WarmReport
from .cache.rules import keys as cache_keys
from .dynamo import audit, reads, writes
from .dynamo.audit import AuditRecord
from .dynamo.entities import Restaurant, Review
from .dynamo.errors import DataError, Unavailable
from .dynamo.ksuid import new_ksuid
from .models import User

logger = logging.getLogger(__name__)

# The longest review text; the review form sizes its field by it.
MAX_REVIEW_LENGTH = writes.MAX_REVIEW_LENGTH

# --- Form submissions: what makes a retried post the same post ------------------

_SUBMISSION_SALT = "review-submission"
SUBMISSION_MAX_AGE = 24 * 3600
_KSUID = re.compile(r"^[0-9a-f]{40}$")


def submission_new() -> str:
    """A signed token for a form about to be shown: a review write made from it
    is identified by it, so posting it twice writes once (see dynamo.writes)."""
    return signing.dumps(new_ksuid(), salt=_SUBMISSION_SALT)


def submission_id(token: str | None) -> str | None:
    """The submission a posted token names, or None (missing, forged, over a day
    old: the write is then simply a new one)."""
    try:
        value = signing.loads(token or "", salt=_SUBMISSION_SALT, max_age=SUBMISSION_MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) and _KSUID.match(value) else None


# --- Reviews: a DynamoDB transaction, then the cache write-through ------------


def review_post(*, username: str, restaurant: str, rating: int, text: str, submission: str | None = None) -> Review:
    with _caches_dropped_if_unsure(restaurant, username):
        review = writes.review_create(
            username=username, restaurant=restaurant, rating=rating, text=text, submission=submission
        )
    _after_review_write(restaurant, username, written=review)
    return review


def review_edit(*, review: Review, rating: int, text: str, submission: str | None = None) -> Review:
    with _caches_dropped_if_unsure(review.restaurant, review.username):
        updated = writes.review_update(review=review, rating=rating, text=text, submission=submission)
    _after_review_write(review.restaurant, review.username, written=updated)
    return updated


def review_remove(*, review: Review, submission: str | None = None) -> None:
    with _caches_dropped_if_unsure(review.restaurant, review.username):
        writes.review_delete(review=review, submission=submission)
    _after_review_write(review.restaurant, review.username, removed_id=review.id)


@contextlib.contextmanager
def _caches_dropped_if_unsure(restaurant: str, username: str):
    """A write that timed out may still be applied: drop what it would change,
    so readers go to DynamoDB rather than trust a copy that may be outdated."""
    try:
        yield
    except Unavailable:
        invalidation.review_written(restaurant=restaurant, username=username, summary=None)
        raise


def _after_review_write(
    restaurant: str, username: str, *, written: Review | None = None, removed_id: str | None = None
) -> None:
    try:
        summary = reads.restaurant_summary_after_write(name=restaurant, written=written, removed_id=removed_id)
    except DataError:
        summary = None  # the write stands; the caches are dropped instead of refreshed
    invalidation.review_written(restaurant=restaurant, username=username, summary=summary)


# --- Restaurants (staff) --------------------------------------------------------


def restaurant_create(*, name: str, cuisine: str, address: str) -> None:
    """``RestaurantExists`` if the name is taken. The list pages are retired,
    so the next view of them shows the new restaurant."""
    writes.restaurant_create(name=name, cuisine=cuisine, address=address)
    invalidation.restaurant_changed(name, _restaurant_as_stored(name))


def restaurant_update(*, name: str, cuisine: str, address: str) -> None:
    writes.restaurant_update(name=name, cuisine=cuisine, address=address)
    invalidation.restaurant_changed(name, _restaurant_as_stored(name))


def _restaurant_as_stored(name: str) -> Restaurant | None:
    """The restaurant as DynamoDB holds it right after our write (a consistent
    read), for the board; None if it cannot be read (the board is dropped)."""
    try:
        return reads.restaurant_get(name=name, consistent=True)
    except DataError:
        return None


# --- Cache actions (staff) -------------------------------------------------------


def cache_flush(*, scope: str) -> FlushReport:
    """Remove one scope of ``flush.SCOPES`` ("pages", "data" or "all"); sessions are never touched."""
    return flush.flush(flush.SCOPES[scope])


def restaurant_cache_purge(*, name: str) -> int:
    """Drop everything cached for one restaurant and retire the pages that list
    it; the number of keys removed."""
    removed = flush.flush_restaurant(name)
    invalidation.restaurant_changed(name)
    return removed


def cache_warm(*, pages: bool = True) -> WarmReport:
    return warming.warm(pages=pages)


def leaderboard_rebuild() -> int:
    """Recompute the ranking from DynamoDB; the number of restaurants ranked."""
    return leaderboard.rebuild()


def audit_record_create(*, who: str, action: str, target: str = "", result: str = "", ok: bool = True) -> AuditRecord:
    return audit.audit_record(who=who, action=action, target=target, result=result, ok=ok)


# --- Login throttling --------------------------------------------------------------


# --- Accounts: every write of a profile goes through here ------------------------
# Each is one UpdateItem of the fields it names, behind the profile fence
# (``User.save``): no cached profile keeps an old password, address, right or
# session epoch once the write is confirmed; Unavailable, nothing written, if the
# fence cannot be set.


def user_email_set(*, user: User, email: str) -> None:
    """The address a password reset mails (empty: none), with its lookup item."""
    user.email = User.objects.normalize_email(email)
    user.save(update_fields=["email"])


def user_password_set(*, user: User, password: str) -> None:
    """Every session of the account ends at its next request but the one the
    caller keeps (``update_session_auth_hash``)."""
    user.set_password(password)
    user.save(update_fields=["password"])


def user_sessions_end(*, user: User) -> None:
    """End every session of the account at its next request (the caller gives
    its own the new hash to keep it): the session epoch rises in DynamoDB, so
    no session elsewhere, cached or restored from a snapshot, passes its check."""
    user.session_epoch += 1
    user.save(update_fields=["session_epoch"])


def user_active_set(*, user: User, active: bool) -> None:
    """Activate or deactivate the account; deactivating also ends every
    session of it, for good (a reactivation does not bring them back)."""
    user.is_active = active
    fields = ["is_active"]
    if not active:
        user.session_epoch += 1
        fields.append("session_epoch")
    user.save(update_fields=fields)


def login_attempt_reserve(*, username: str, client: str) -> int:
    """Count a login attempt at ``username`` from ``client`` before its password
    is checked: 0 when it may go on, else the seconds to wait (nothing counted).
    ``ThrottleUnavailable`` when the counters cannot be reached (fail closed)."""
    return ratelimit.reserve(
        _login_keys(username, client),
        limits=(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT, settings.LOGIN_FAILURES_PER_CLIENT),
        window=settings.LOGIN_FAILURE_WINDOW,
    )


def login_succeeded(*, username: str, client: str) -> None:
    ratelimit.succeeded(_login_keys(username, client))


def _login_keys(username: str, client: str) -> tuple[str, str]:
    return cache_keys.login_attempts_key(username, client), cache_keys.login_client_failures_key(client)


# --- Password resets ----------------------------------------------------------------


class ResetAllowance(NamedTuple):
    """What a password-reset request may do: ``wait`` seconds before asking
    again (0: it is answered as usual), and whether a mail may go out."""

    wait: int
    mail: bool


def password_reset_reserve(*, email: str, client: str) -> ResetAllowance:
    """Count a password-reset request for ``email`` from ``client``. Refused
    (``wait``) only by this client's own counters, for this address or any, so
    requests from elsewhere never refuse the address's owner. Past the mail cap
    of the address (requests from every client), the request is answered the
    same and no mail goes out: the owner under a flood misses a mail, never
    gets a refusal. Counted whether or not an account has the address, so the
    answer tells nothing about that. ``ThrottleUnavailable`` when the counters
    cannot be reached (fail closed)."""
    window = settings.PASSWORD_RESET_WINDOW
    address = email.strip().lower()
    wait = ratelimit.reserve(
        (cache_keys.password_reset_requests_key(address, client), cache_keys.password_reset_client_key(client)),
        limits=(settings.PASSWORD_RESETS_PER_EMAIL_AND_CLIENT, settings.PASSWORD_RESETS_PER_CLIENT),
        window=window,
    )
    if wait:
        return ResetAllowance(wait=wait, mail=False)
    mails = cache_keys.password_reset_mails_key(address)
    capped = ratelimit.reserve((mails,), limits=(settings.PASSWORD_RESET_MAILS_PER_EMAIL,), window=window)
    if capped:
        logger.warning("password reset: the mail cap of an address is reached; no mail sent for %ss", capped)
    return ResetAllowance(wait=0, mail=not capped)
