"""What each kind of visitor does on the site, asserting what they see.

Run against a Redis set up the hard way (TLS with a private CA, the least ACL,
a cluster), these prove the site works there; together with ``redis_errors``
staying empty and the server's ACL LOG staying empty, that it did so on Redis
and not on its DynamoDB fallback. ``settle`` is called before a read that a
replica must already have (a no-op without replicas).
"""

from collections.abc import Callable

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from restaurants.dynamo.audit import audit_latest
from tests import lab_scripts

FINE_DINING = "AnyCompany Fine Dining"
MEXICAN = "AnyCompany Mexican"
ANONYMOUS_PAGES = (
    reverse("restaurants:detail", args=[FINE_DINING]),
    reverse("restaurants:reviews", args=[FINE_DINING]),
    reverse("restaurants:list"),
    reverse("restaurants:top"),
    reverse("restaurants:user", args=["ewilliams"]),
)
MEMBER, MEMBER_PASSWORD = "tls-member", "pass-word-9"
STAFF_ACTIONS = {
    "flush-pages": "Removed",
    "flush-all": "Removed",
    "warm": "Warmed",
    "rebuild-leaderboard": "Ranked",
}


def anonymous_visitor(settle: Callable[[], None]) -> None:
    """Every cached page: rendered once (MISS), then served from Redis (HIT)."""
    browser = Client()
    for url in ANONYMOUS_PAGES:
        first = browser.get(url)
        assert (first.status_code, first.get("X-Cache")) == (200, "MISS"), url
    settle()
    for url in ANONYMOUS_PAGES:
        assert browser.get(url).get("X-Cache") == "HIT", url


def member(settle: Callable[[], None]) -> None:
    """Signs up, is throttled-counted on a wrong password, logs in, reviews,
    edits and deletes; anonymous visitors see each change."""
    browser = Client()
    signup = {"username": MEMBER, "password1": MEMBER_PASSWORD, "password2": MEMBER_PASSWORD}
    assert browser.post("/accounts/signup/", signup).status_code == 302
    assert browser.get(reverse("restaurants:detail", args=[MEXICAN])).context["user"].username == MEMBER
    assert browser.post("/accounts/logout/").status_code == 302
    wrong = Client().post("/accounts/login/", {"username": MEMBER, "password": "wrong-password"})
    assert wrong.status_code == 400
    assert browser.post("/accounts/login/", {"username": MEMBER, "password": MEMBER_PASSWORD}).status_code == 302

    detail = reverse("restaurants:detail", args=[MEXICAN])
    assert MEMBER in browser.get(detail).content.decode()
    posted = browser.post(reverse("restaurants:review_create", args=[MEXICAN]), {"rating": 5, "review": "Posted."})
    assert posted.status_code == 302
    settle()
    assert "Posted." in Client().get(detail).content.decode()
    edit = reverse("restaurants:review_edit", args=[MEXICAN])
    assert browser.post(edit, {"rating": 4, "review": "Edited."}).status_code == 302
    settle()
    assert "Edited." in Client().get(detail).content.decode()
    assert browser.post(reverse("restaurants:review_delete", args=[MEXICAN])).status_code == 302
    settle()
    assert "Edited." not in Client().get(detail).content.decode()
    assert browser.get(detail).context["user"].username == MEMBER  # still logged in


def staff(browser: Client) -> str:
    """The dashboard, every cache action and a moderation delete; returns the
    dashboard's HTML for the caller's own checks."""
    dashboard = browser.get("/admin/")
    assert dashboard.status_code == 200
    for slug, reported in STAFF_ACTIONS.items():
        done = browser.post(f"/admin/cache/{slug}/", follow=True)
        assert reported in done.content.decode(), slug
    purged = browser.post("/admin/cache/purge/", {"restaurant": FINE_DINING}, follow=True)
    assert "Purged" in purged.content.decode()
    assert all(record.ok for record in audit_latest(limit=len(STAFF_ACTIONS) + 1))
    delete = reverse("staff:review_delete", kwargs={"name": FINE_DINING, "username": "hannah21"})
    assert browser.post(delete).status_code == 302
    assert "hannah21" not in Client().get(reverse("restaurants:detail", args=[FINE_DINING])).content.decode()
    return dashboard.content.decode()


def operator_commands() -> None:
    """What an operator runs with manage.py, the stream follower included."""
    for command, args in (("warm_cache", ()), ("rebuild_leaderboard", ()), ("flush_cache", ("--all",))):
        call_command(command, *args, verbosity=0)
    call_command("follow_stream", "--once", verbosity=0)  # its first start
    detail = reverse("restaurants:detail", args=[MEXICAN])
    Client().get(detail)
    lab_scripts.create_review(restaurant=MEXICAN, username="lab_script", rating=3, review="From the lab script.")
    call_command("follow_stream", "--once", verbosity=0)
    assert "From the lab script." in Client().get(detail).content.decode()
