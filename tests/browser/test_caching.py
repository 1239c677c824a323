"""What a visitor sees through the caches: never a page older than a review
that was just posted, even when their copy came from the page cache."""

from playwright.sync_api import Browser, Page, expect

from .pages import restaurant_path, review_authors
from .test_accounts_and_reviews import sign_up, unique_username

RESTAURANT = "Example Corp. Burgers"  # no other browser test writes here


def test_an_anonymous_visitor_sees_a_review_just_posted_by_someone_else(page: Page, browser: Browser, site_url: str):
    first = page.goto(restaurant_path(RESTAURANT))
    second = page.goto(restaurant_path(RESTAURANT))
    assert first.headers["x-cache"] in ("MISS", "HIT") and second.headers["x-cache"] == "HIT"

    author_context = browser.new_context(base_url=site_url)
    author = author_context.new_page()
    author.goto(restaurant_path(RESTAURANT))
    username = unique_username()
    sign_up(author, username)
    author.get_by_label("4 stars").check()
    author.get_by_label("Your review").fill("Fresh from the grill, seen by everyone.")
    author.get_by_role("button", name="Post review").click()
    expect(review_authors(author).first).to_have_text(username)
    author_context.close()

    reload = page.reload()
    assert reload.headers["x-cache"] == "MISS"
    expect(review_authors(page).first).to_have_text(username)
    expect(page.get_by_text("Fresh from the grill, seen by everyone.")).to_be_visible()
