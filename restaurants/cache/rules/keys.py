"""The one place for Redis key formats.

Every key starts with the site prefix and a namespace (``summary``, ``page``,
``fragment``...), so a flush can find one kind of key without touching others.
Keys that are read or written together carry the same hash tag, so multi-key
scripts stay in one cluster slot:

- ``{restaurant:<id>}``: a restaurant's summary, its page group, its fragments
  and page shell, its generation counter and its refresh lock;
- ``{user:<id>}``: a user's page group, profile, own reviews and generation;
- ``{lists}``: the list pages, the leaderboard (the catalogue of every
  restaurant the list pages are sorted from) and their generation;
- ``{search}``: the name-search pages and their generation (retired when a
  restaurant's name, cuisine or address changes, not by reviews).

Names can hold any character (``{`` and ``}`` included), so tags use a digest.

What is rendered (pages, shells, fragments) is keyed by the release that
rendered it (``release.current()``), so a deploy never serves its
predecessor's HTML; data (summaries, profiles, the board) is not, so it
stays warm across deploys. Page groups and generations carry no release
either: while two releases run side by side (a rolling deploy), the one
``DEL`` or ``HDEL`` of a write retires both releases' pages.
"""

import functools
import hashlib

from django.conf import settings

from . import release


# A restaurant page's view builds its keys from the same two names eleven
# times; remembering recent digests saves it about 4 us (0.5 us a SHA-256, 0.1
# a lookup). The cache is bounded, so the memory it takes is too.
@functools.lru_cache(maxsize=4096)
def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def prefix() -> str:
    return settings.CACHE_KEY_PREFIX


def checked_prefixes() -> tuple[str, str]:
    """Everything of ours a Redis holds, which the restart check empties from a
    server that is new to us: the caches' keys, then the sessions' (their
    truth is in DynamoDB) and login counters. The first names the marker."""
    return prefix(), settings.CACHES["sessions"]["KEY_PREFIX"]


def namespace_pattern(namespace: str) -> str:
    """A SCAN pattern for one namespace (for flush commands, never for requests)."""
    return f"{prefix()}:{namespace}:*"


def restaurant_tag(name: str) -> str:
    return "{restaurant:" + _digest(name) + "}"


def user_tag(username: str) -> str:
    return "{user:" + _digest(username.lower()) + "}"


LISTS_TAG = "{lists}"
SEARCH_TAG = "{search}"


def summary_key(name: str) -> str:
    return f"{prefix()}:summary:{restaurant_tag(name)}"


def summary_lock_key(name: str) -> str:
    return f"{prefix()}:lock:{restaurant_tag(name)}:summary"


def page_group_key(tag: str) -> str:
    """A hash holding every cached page of one group, of every release
    (field: ``release_page_field``)."""
    return f"{prefix()}:page:{tag}"


def release_page_field(address: str) -> str:
    """A page's field in its group's hash: this release, then the page's
    address (``pages.page_field``, which starts with "/"; a release holds no
    "/"). Joined with nothing, so a script retiring one address for every
    release builds the same field: ``release .. address`` (``catalogue``)."""
    return release.current() + address


def page_releases_key(tag: str) -> str:
    """The releases that stored pages in a group's hash (a hash, field: the
    release; in the group's slot): a write retiring some of the group's pages
    retires them for each."""
    return f"{prefix()}:releases:{tag}"


def surrogate_key(tag: str) -> str:
    """A page group's name for a CDN (``Surrogate-Key`` header, and the key a
    write purges): ``site-restaurant-<digest>``, ``site-user-<digest>``, ``site-lists``."""
    return f"{prefix()}-" + tag.strip("{}").replace(":", "-")


def all_pages_surrogate_key() -> str:
    """Carried by every cached page too: flushing the page cache purges it."""
    return f"{prefix()}-pages"


def generation_key(tag: str) -> str:
    """Bumped on every write to the group: a page or summary computed under an
    older generation is never stored."""
    return f"{prefix()}:generation:{tag}"


def fragment_key(tag: str, fragment: str, version: str) -> str:
    return f"{prefix()}:fragment:{tag}:{release.current()}:{fragment}:{version}"


def fragment_shell_key(tag: str) -> str:
    """A page's part shared by every visitor (``fragments.Shell``), per
    release (two releases side by side each keep their own, rather than
    overwrite each other's). Not versioned in the key, so a view can read it
    together with the summary whose version it must carry; in the fragment
    namespace, so flushes and purges take it with the fragments."""
    return f"{prefix()}:fragment:{tag}:shell:{release.current()}"


def leaderboard_key() -> str:
    return f"{prefix()}:leaderboard:{LISTS_TAG}"


def leaderboard_details_key() -> str:
    return f"{prefix()}:leaderboard:{LISTS_TAG}:details"


def leaderboard_fresh_key() -> str:
    """Until when (epoch seconds) the published leaderboard is fresh; past it,
    one reader rebuilds while the others are served the board as it is."""
    return f"{prefix()}:leaderboard:{LISTS_TAG}:fresh_until"


def leaderboard_staging_key(suffix: str) -> str:
    return f"{prefix()}:leaderboard:{LISTS_TAG}:staging:{suffix}"


def leaderboard_journal_key() -> str:
    """The latest state a write put on the board, per restaurant (with when),
    laid over a rebuild's DynamoDB read when it is published."""
    return f"{prefix()}:leaderboard:{LISTS_TAG}:journal"


def leaderboard_lock_key() -> str:
    return f"{prefix()}:lock:{LISTS_TAG}:leaderboard"


def own_review_key(username: str, restaurant: str) -> str:
    """Whether (and how) a user reviewed a restaurant, for the restaurant page."""
    return f"{prefix()}:mine:{user_tag(username)}:{_digest(restaurant)}"


def stats_key() -> str:
    """A bounded hash of hit/miss counters, one field per cache kind and outcome."""
    return f"{prefix()}:stats:cache"


def profile_key(username: str) -> str:
    """A user's profile item (with the password hash), shares the user's generation."""
    return f"{prefix()}:profile:{user_tag(username)}"


def readiness_probe_key() -> str:
    """Read, never written, by ``/readyz`` on each alias, under that alias's
    own prefix (``caches[alias].make_key``: ``site:1:readyz``, ``session:1:readyz``),
    so the least ACL's key patterns cover it."""
    return "readyz"


# Session-side keys (the sessions alias, never flushed with the caches).


def _throttle_key(kind: str, client: str, counter: str) -> str:
    """``ratelimit:{<kind>:<client digest>}:<counter>``: the counters of one
    client for one kind share a slot, so one script checks and counts them."""
    return f"ratelimit:{{{kind}:{_digest(client)}}}:{counter}"


def login_attempts_key(username: str, client: str) -> str:
    """Attempts at one account from one client (a success starts it afresh)."""
    return _throttle_key("login", client, f"account:{_digest(username.lower())}")


def login_client_failures_key(client: str) -> str:
    """Failed attempts from one client, whatever the account."""
    return _throttle_key("login", client, "client")


def password_reset_requests_key(email: str, client: str) -> str:
    """Password-reset requests for one address (normalised by the caller) from one client."""
    return _throttle_key("reset", client, f"email:{_digest(email)}")


def password_reset_client_key(client: str) -> str:
    """Password-reset requests from one client, for any address."""
    return _throttle_key("reset", client, "client")


def password_reset_mails_key(email: str) -> str:
    """Reset mails to one address (normalised by the caller), whoever asked: a
    volume cap that drops mail silently, never a refusal (services.password_reset_reserve)."""
    return "ratelimit:{reset-mail:" + _digest(email) + "}:email"
