"""A visitor browses the AWS lab data: restaurants, cuisines, reviews, pages."""

from playwright.sync_api import Page, expect

from .pages import histogram, restaurant_path, review_authors

FINE_DINING = "AnyCompany Fine Dining"
LAB_RESTAURANT_COUNT = 10
ITALIAN_RESTAURANTS = ["AnyCompany Italian", "Example Corp. Italian"]
REVIEWS_PER_PAGE = 20
NEWEST_REVIEWERS = ["markmartin", "kgraham", "ewilliams", "hannah21", "john97"]


def restaurant_names(page: Page):
    return page.locator(".cards .card h2")


def test_home_page_lists_every_restaurant_and_the_cuisine_filter_narrows_it(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading", name="Restaurants", level=1)).to_be_visible()
    expect(restaurant_names(page)).to_have_count(LAB_RESTAURANT_COUNT)

    page.get_by_label("Cuisine").select_option("Italian")
    page.get_by_role("button", name="Filter").click()

    expect(page.get_by_role("heading", name="Italian restaurants", level=1)).to_be_visible()
    expect(page).to_have_url("/?cuisine=Italian")
    assert sorted(restaurant_names(page).all_inner_texts()) == ITALIAN_RESTAURANTS
    expect(page.get_by_label("Cuisine")).to_have_value("Italian")


def test_a_restaurant_page_shows_its_average_and_five_newest_reviewers(page: Page):
    page.goto("/")
    page.get_by_role("link", name=FINE_DINING, exact=True).click()

    expect(page.get_by_role("heading", name=FINE_DINING, level=1)).to_be_visible()
    expect(page.locator(".big-rating strong")).to_have_text("2.48")
    expect(page.get_by_text("27 reviews", exact=True)).to_be_visible()
    expect(review_authors(page)).to_have_text(NEWEST_REVIEWERS)
    assert histogram(page) == {5: 4, 4: 3, 3: 4, 2: 7, 1: 9}


def test_all_reviews_link_opens_the_paginated_list_and_next_page_shows_the_rest(page: Page):
    page.goto(restaurant_path(FINE_DINING))
    page.get_by_role("link", name="All 27 reviews").click()

    expect(page.get_by_role("heading", name=f"Reviews of {FINE_DINING}")).to_be_visible()
    expect(review_authors(page)).to_have_count(REVIEWS_PER_PAGE)
    first_page = review_authors(page).all_inner_texts()
    assert first_page[:5] == NEWEST_REVIEWERS

    page.get_by_role("link", name="Next page").click()

    expect(review_authors(page)).to_have_count(27 - REVIEWS_PER_PAGE)
    second_page = review_authors(page).all_inner_texts()
    assert len(set(first_page) | set(second_page)) == 27, "page two must hold the reviews page one did not"
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    expect(page.get_by_role("link", name="First page")).to_be_visible()


def test_an_unknown_restaurant_shows_the_not_found_page(page: Page):
    response = page.goto(restaurant_path("Nowhere Diner"))

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()
    expect(page.locator(".error-code")).to_have_text("404")
    expect(page.get_by_role("link", name="Back to the restaurants")).to_be_visible()
