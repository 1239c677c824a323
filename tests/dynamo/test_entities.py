import pytest

from restaurants.dynamo.entities import Restaurant, RestaurantSummary, Review, StarCounts, star_attribute


def test_average_and_count_come_from_the_counters():
    stars = StarCounts(five=4, four=3, three=4, two=7, one=9)
    assert stars.total == 27
    assert round(stars.average, 2) == 2.48


def test_a_restaurant_without_reviews_has_no_average():
    assert StarCounts().average is None


def test_decimal_counters_become_ints():
    from decimal import Decimal

    restaurant = Restaurant.from_item({"name": "X", "five_stars": Decimal("2")})
    assert restaurant.stars.five == 2 and isinstance(restaurant.stars.five, int)


def test_each_rating_maps_to_its_counter():
    assert [star_attribute(r) for r in (5, 4, 3, 2, 1)] == [
        "five_stars",
        "four_stars",
        "three_stars",
        "two_stars",
        "one_stars",
    ]


def test_lab_timestamps_are_read_as_utc():
    review = Review.from_item({**GOOD_REVIEW, "created_at": "2020-03-03T19:42:13"})
    assert review.created_at.utcoffset().total_seconds() == 0


def restaurant_item(name: str = "Odd", **attributes) -> dict:
    return {"PK": f"REST#{name}", "SK": f"REST#{name}", "name": name, **attributes}


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Thai", "Thai"),
        (7, "7"),
        (7.5, "7.5"),
        (["Thai", "Fusion"], "Thai, Fusion"),
        (["Thai", {"a": 1}, 3], "Thai, 3"),
        ({"street": "1 Pier"}, ""),
        (True, ""),
        (None, ""),
        (b"bytes", ""),
    ],
)
def test_a_cuisine_or_address_of_another_type_is_shown_as_text_or_as_missing(stored, shown):
    restaurant = Restaurant.from_item(restaurant_item(cuisine=stored, address=stored))

    assert (restaurant.cuisine, restaurant.address) == (shown, shown)
    assert RestaurantSummary(restaurant=restaurant, latest_reviews=[]).version  # a string to hash, no TypeError


def test_a_restaurant_is_named_by_its_key_when_its_name_attribute_was_edited():
    item = {**restaurant_item("Old Name"), "name": "New Name"}

    assert Restaurant.from_item(item).name == "Old Name"


def test_a_restaurant_item_without_a_name_attribute_still_makes_no_restaurant():
    item = restaurant_item()
    del item["name"]

    with pytest.raises(KeyError):
        Restaurant.from_item(item)


GOOD_REVIEW = {"id": "x", "restaurant": "R", "username": "u", "rating": 3, "review": "Ok", "created_at": "2020-03-03"}


@pytest.mark.parametrize(
    "odd", [{"rating": "4"}, {"rating": "five"}, {"rating": {"n": 4}}, {"rating": 9}, {"rating": 0}, {"rating": True}]
)
def test_a_rating_that_is_not_a_whole_number_from_1_to_5_makes_no_review(odd):
    with pytest.raises((TypeError, ValueError)):
        Review.from_item({**GOOD_REVIEW, **odd})


@pytest.mark.parametrize("odd", [{"review": None}, {"review": 12}, {"review": ["a"]}])
def test_a_review_without_text_makes_no_review(odd):
    item = {name: value for name, value in {**GOOD_REVIEW, **odd}.items() if value is not None}

    with pytest.raises((KeyError, TypeError)):
        Review.from_item(item)


def test_a_whole_rating_stored_as_a_decimal_is_read():
    from decimal import Decimal

    from restaurants.dynamo.items import to_python

    assert Review.from_item({**GOOD_REVIEW, "rating": to_python(Decimal("5"))}).rating == 5
