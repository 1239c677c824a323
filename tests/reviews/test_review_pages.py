import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from restaurants.dynamo import reads
from restaurants.dynamo.schema import scan_items

User = get_user_model()
MEXICAN = "AnyCompany Mexican"  # lab counters 5/4/3/4/11... read them from the table instead


@pytest.fixture
def kim_client(client, lab_table):
    User.objects.create_user("kim", None, "pass-word-9")
    client.login(username="kim", password="pass-word-9")
    return client


def _stars(name=MEXICAN):
    return reads.restaurant_get(name=name).stars


def _post(client, rating=4, text="Lovely tacos.", name=MEXICAN):
    return client.post(reverse("restaurants:review_create", args=[name]), {"rating": rating, "review": text})


def test_posting_a_review_adds_it_and_moves_exactly_one_counter(kim_client):
    before = _stars()
    response = _post(kim_client, rating=4, text="  Lovely tacos.  ")
    assert response.status_code == 302 and response["Location"] == reverse("restaurants:detail", args=[MEXICAN])
    after = _stars()
    assert after.four == before.four + 1
    assert (after.five, after.three, after.two, after.one) == (before.five, before.three, before.two, before.one)
    [review] = [i for i in scan_items() if i["PK"] == "USER#kim" and i["SK"] != "#PROFILE"]
    assert review["review"] == "Lovely tacos." and review["rating"] == 4
    assert re.fullmatch(r"[0-9a-f]{40}", review["id"]) and review["GSI1SK"] == f"#REVIEW#{review['id']}"
    assert review["created_at"].endswith("+00:00")


def test_the_author_sees_their_review_first_on_the_next_page_view(kim_client):
    page = kim_client.get(_post(kim_client)["Location"])
    body = page.content.decode()
    assert re.findall(r'class="review-author"[^>]*>([^<]+)<', body)[0] == "kim"
    assert "Your review is published" in body


def test_the_authors_new_review_is_shown_once_not_in_both_the_panel_and_the_list(kim_client):
    body = kim_client.get(_post(kim_client, text="Lovely tacos, fresh salsa.")["Location"]).content.decode()
    assert "You reviewed AnyCompany Mexican (4 stars)" in body
    assert body.count("Lovely tacos, fresh salsa.") == 1
    assert "It is shown below with the latest reviews." in body


def test_the_review_form_has_its_own_heading_before_the_latest_reviews(kim_client):
    body = kim_client.get(reverse("restaurants:detail", args=[MEXICAN])).content.decode()
    write, latest = body.index('<h2 id="write-heading">Write a review</h2>'), body.index(">Latest reviews</h2>")
    assert write < body.index('<form class="review-form"') < latest


def test_a_second_review_is_refused_and_nothing_is_overwritten(kim_client):
    _post(kim_client, rating=5, text="First.")
    before = _stars()
    response = _post(kim_client, rating=1, text="Second.")
    assert response.status_code == 302 and response["Location"] == reverse("restaurants:review_edit", args=[MEXICAN])
    assert "already reviewed" in kim_client.get(response["Location"]).content.decode()
    assert _stars() == before
    [review] = [i for i in scan_items() if i["PK"] == "USER#kim" and i["SK"] != "#PROFILE"]
    assert review["review"] == "First." and review["rating"] == 5


def test_the_restaurant_page_offers_an_edit_link_once_reviewed(kim_client):
    _post(kim_client)
    body = kim_client.get(reverse("restaurants:detail", args=[MEXICAN])).content.decode()
    assert reverse("restaurants:review_edit", args=[MEXICAN]) in body and "Post review" not in body


def test_editing_moves_the_counters_in_the_same_write(kim_client):
    _post(kim_client, rating=5)
    before = _stars()
    response = kim_client.post(reverse("restaurants:review_edit", args=[MEXICAN]), {"rating": 2, "review": "Meh."})
    assert response.status_code == 302
    after = _stars()
    assert (after.five, after.two) == (before.five - 1, before.two + 1)
    assert after.total == before.total


def test_deleting_removes_the_review_and_its_star(kim_client):
    before = _stars()
    _post(kim_client, rating=3)
    assert "Delete your review" in kim_client.get(reverse("restaurants:review_delete", args=[MEXICAN])).content.decode()
    response = kim_client.post(reverse("restaurants:review_delete", args=[MEXICAN]))
    assert response.status_code == 302
    assert _stars() == before
    assert not [i for i in scan_items() if i["PK"] == "USER#kim" and i["SK"] != "#PROFILE"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"rating": 6, "review": "Text"}, "Select a valid choice"),
        ({"rating": 0, "review": "Text"}, "Select a valid choice"),
        ({"review": "Text"}, "This field is required"),
        ({"rating": 4, "review": "   "}, "This field is required"),
        ({"rating": 4, "review": "x" * 5001}, "at most 5000 characters"),
    ],
)
def test_invalid_reviews_re_render_the_form_keeping_the_text(kim_client, data, message):
    before = _stars()
    response = kim_client.post(reverse("restaurants:review_create", args=[MEXICAN]), data)
    body = response.content.decode()
    assert response.status_code == 400 and message in body
    if data.get("review", "").strip():
        assert data["review"][:100] in body
    assert _stars() == before


def test_an_outage_keeps_the_users_text_and_says_posting_again_is_safe(kim_client, monkeypatch):
    from restaurants.dynamo import writes
    from restaurants.dynamo.errors import Unavailable

    def throttled(**kwargs):
        raise Unavailable("ProvisionedThroughputExceededException")

    monkeypatch.setattr(writes, "review_create", throttled)
    response = _post(kim_client, text="My precious words.")
    assert response.status_code == 503
    body = response.content.decode()
    assert "My precious words." in body and "Posting it again is safe" in body


def test_reviewing_an_unknown_restaurant_is_a_404(kim_client):
    assert _post(kim_client, name="Nowhere").status_code == 404
    assert not [i for i in scan_items() if i["PK"] == "USER#kim" and i["SK"] != "#PROFILE"]


def test_anonymous_visitors_are_sent_to_log_in(client, lab_table):
    response = _post(client)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_posting_needs_a_csrf_token(lab_table):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    User.objects.create_user("kim", None, "pass-word-9")
    browser.login(username="kim", password="pass-word-9")
    assert _post(browser).status_code == 403


def test_editing_without_a_review_is_a_404(kim_client):
    assert kim_client.get(reverse("restaurants:review_edit", args=[MEXICAN])).status_code == 404


def test_review_text_is_escaped(kim_client):
    _post(kim_client, text="<img src=x onerror=alert(1)>")
    body = kim_client.get(reverse("restaurants:detail", args=[MEXICAN])).content.decode()
    assert "<img src=x" not in body and "&lt;img src=x" in body
