"""A visitor makes an account and writes, edits and deletes a review.

The table is shared by every test of this process, so each test signs up a
user of its own and writes to a restaurant no other test writes to.
"""

import uuid

from playwright.sync_api import Page, expect

from .pages import PASSWORD, flash, header, histogram, restaurant_path, review_authors, sign_up


def unique_username() -> str:
    return f"diner_{uuid.uuid4().hex[:12]}"


def test_a_visitor_signs_up_logs_out_and_logs_back_in(page: Page):
    username = unique_username()
    page.goto(restaurant_path("AnyCompany Indian"))
    expect(page.get_by_role("button", name="Post review")).to_have_count(0)

    sign_up(page, username)

    expect(page).to_have_url(restaurant_path("AnyCompany Indian"))
    expect(header(page).get_by_role("link", name="Sign up")).to_have_count(0)

    header(page).get_by_role("button", name="Log out").click()

    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(header(page).get_by_role("link", name=username)).to_have_count(0)
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()

    page.goto(restaurant_path("AnyCompany Indian"))
    header(page).get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(header(page).get_by_role("link", name=username)).to_be_visible()
    expect(page.get_by_role("heading", name="AnyCompany Indian", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Post review")).to_be_visible()


def test_a_posted_review_shows_first_then_can_be_edited_and_deleted(page: Page):
    restaurant = "AnyCompany BBQ"
    username = unique_username()
    page.goto(restaurant_path(restaurant))
    sign_up(page, username)
    counts_before = histogram(page)

    page.get_by_label("4 stars").check()
    page.get_by_label("Your review").fill("Smoky brisket, slow service.")
    page.get_by_role("button", name="Post review").click()

    expect(flash(page)).to_have_text("Thank you! Your review is published.")
    expect(review_authors(page).first).to_have_text(username)
    expect(page.locator("article.review .review-text").first).to_have_text("Smoky brisket, slow service.")
    assert histogram(page) == {**counts_before, 4: counts_before[4] + 1}
    expect(page.get_by_role("button", name="Post review")).to_have_count(0)

    page.get_by_role("link", name="Edit your review").click()
    expect(page.get_by_label("4 stars")).to_be_checked()
    page.get_by_label("2 stars").check()
    page.get_by_label("Your review").fill("Second visit: cold brisket.")
    page.get_by_role("button", name="Save changes").click()

    expect(flash(page)).to_have_text("Your review is updated.")
    expect(page.locator("article.review .review-text").first).to_have_text("Second visit: cold brisket.")
    assert histogram(page) == {**counts_before, 2: counts_before[2] + 1}

    page.get_by_role("link", name="Delete it").click()
    page.get_by_role("button", name="Yes, delete it").click()

    expect(flash(page)).to_have_text("Your review is deleted.")
    expect(review_authors(page).filter(has_text=username)).to_have_count(0)
    assert histogram(page) == counts_before
    expect(page.get_by_role("button", name="Post review")).to_be_visible()
