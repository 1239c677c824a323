from restaurants.dynamo.entities import Restaurant, Review, StarCounts, star_attribute


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
    review = Review.from_item(
        {"id": "x", "restaurant": "R", "username": "u", "rating": 3, "created_at": "2020-03-03T19:42:13"}
    )
    assert review.created_at.utcoffset().total_seconds() == 0
