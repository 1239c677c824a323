"""Deterministic demo data: the same restaurants, users and reviews every run.

Demo users have profiles with unusable passwords: their names are taken, but
nobody can log in as them.

Items are in the lab's format, so the demo table looks exactly like a loaded
lab table (plus our index attributes, added on write). Counters are computed
from the generated reviews, so they always agree with them.
"""

import datetime as dt
import random
from collections.abc import Iterator

from restaurants.dynamo import item_keys
from restaurants.dynamo.entities import star_attribute
from restaurants.dynamo.ksuid import new_ksuid

CUISINES = {
    "American": ["Diner", "Grill", "Burgers", "Smokehouse"],
    "Italian": ["Trattoria", "Osteria", "Pizzeria", "Pasta Bar"],
    "Mexican": ["Taquería", "Cantina", "Cocina", "Tortillería"],
    "Thai": ["Thai Kitchen", "Noodle House", "Street Food", "Curry House"],
    "Japanese": ["Sushi Bar", "Izakaya", "Ramen-ya", "Robata"],
    "Indian": ["Tandoor", "Curry Leaf", "Dhaba", "Masala House"],
    "French": ["Bistro", "Brasserie", "Café", "Crêperie"],
    "Chinese": ["Dumpling House", "Noodle Bar", "Dim Sum", "Wok"],
    "Greek": ["Taverna", "Souvlaki", "Ouzeri", "Meze Bar"],
    "Korean": ["BBQ", "Bapsang", "Pocha", "Kitchen"],
    "Vietnamese": ["Phở", "Bánh Mì", "Kitchen", "Noodle Bar"],
    "Ethiopian": ["Injera House", "Kitchen", "Café", "Table"],
    "Spanish": ["Tapas Bar", "Bodega", "Asador", "Cervecería"],
    "Fine Dining": ["Dining Room", "Table", "Salon", "Atelier"],
}
PLACE_WORDS = [
    "Golden",
    "Blue Door",
    "Salt & Smoke",
    "Mama's",
    "Olive",
    "Copper",
    "Harbor",
    "Saffron",
    "Juniper",
    "Old Town",
    "Night Owl",
    "Fig & Thistle",
    "Lantern",
    "Crimson",
    "Willow",
    "Cedar",
    "Hungry Fox",
    "Little Lamb",
    "Brick",
    "Sunny Side",
    "Noël's",
    "Zoë's",
    "Corner",
    "Two Rivers",
    "#1",
]
FIRST_NAMES = [
    "alex",
    "amara",
    "ben",
    "carla",
    "dev",
    "elena",
    "farid",
    "grace",
    "hiro",
    "ines",
    "jamal",
    "kate",
    "liam",
    "mei",
    "nora",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sam",
    "tariq",
    "uma",
    "victor",
    "wen",
    "xavier",
    "yara",
    "zoe",
    "ivan",
    "lena",
    "marco",
    "nadia",
    "oscar",
    "paula",
    "raj",
    "sofia",
    "tom",
]
LAST_NAMES = [
    "smith",
    "garcia",
    "kim",
    "nguyen",
    "patel",
    "rossi",
    "dubois",
    "haile",
    "tanaka",
    "lopez",
    "okafor",
    "novak",
    "silva",
    "cohen",
    "murphy",
    "berg",
    "khan",
    "moreau",
    "costa",
    "li",
]
OPENERS = [
    "Came here for a birthday dinner.",
    "Stopped by on a weekday lunch.",
    "Our second visit this month.",
    "Booked a table for four.",
    "Tried the tasting menu.",
    "Grabbed takeaway on the way home.",
    "Brought my parents here.",
    "Walked in without a reservation.",
]
BY_RATING = {
    5: ["Everything was outstanding.", "Best meal I have had in ages.", "Flawless service and food."],
    4: ["Really good food, slightly slow service.", "Lovely dishes, a bit pricey.", "Would happily return."],
    3: ["Decent but nothing special.", "Some dishes great, others bland.", "Fine for a quick bite."],
    2: ["Food arrived cold.", "Portions were tiny for the price.", "Service was disappointing."],
    1: ["Would not come back.", "Waited an hour and left hungry.", "The worst meal this year."],
}
DETAILS = [
    "The bread was warm and fresh.",
    "Dessert was the highlight.",
    "Music was a little loud.",
    "Staff were friendly and quick.",
    "The wine list is short but smart.",
    "Parking nearby is hard.",
    "Vegetarian options were limited.",
    "Great value for lunch.",
    "The terrace is lovely in summer.",
]
START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
SPAN_SECONDS = int((dt.datetime(2026, 10, 1, tzinfo=dt.UTC) - START).total_seconds())


def restaurant_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(name, cuisine) pairs, unique, spread evenly over the cuisines."""
    cuisines = list(CUISINES)
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(names) < count:
        cuisine = cuisines[len(names) % len(cuisines)]
        name = f"{rng.choice(PLACE_WORDS)} {rng.choice(CUISINES[cuisine])}"
        if name in seen:
            name = f"{name} {rng.choice(['North', 'South', 'East', 'West', 'Central', 'Uptown'])}"
        if name not in seen:
            seen.add(name)
            names.append((name, cuisine))
    return names


def usernames(count: int, rng: random.Random) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)}{rng.choice(['', '.', '_'])}{rng.choice(LAST_NAMES)}{rng.randint(1, 99)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def demo_items(
    *, restaurants: int = 240, users: int = 2000, reviews_per_user: int = 10, seed: int = 2026
) -> Iterator[dict]:
    """Yield restaurant items, then user profiles, then review items."""
    rng = random.Random(seed)
    places = restaurant_names(restaurants, rng)
    people = usernames(users, rng)
    counters = {
        name: dict.fromkeys(("five_stars", "four_stars", "three_stars", "two_stars", "one_stars"), 0)
        for name, _ in places
    }
    quality = {name: rng.uniform(1.6, 4.8) for name, _ in places}
    reviews = []
    for username in people:
        for name, _ in rng.sample(places, reviews_per_user):
            rating = min(5, max(1, round(rng.gauss(quality[name], 1.0))))
            counters[name][star_attribute(rating)] += 1
            created = START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS))
            review_id = new_ksuid(created, payload=rng.randbytes(16))
            text = " ".join([rng.choice(OPENERS), rng.choice(BY_RATING[rating]), rng.choice(DETAILS)])
            reviews.append(
                {
                    **item_keys.review_item_keys(username=username, restaurant=name, review_id=review_id),
                    "id": review_id,
                    "restaurant": name,
                    "username": username,
                    "rating": rating,
                    "review": text,
                    "created_at": created.replace(tzinfo=None).isoformat(timespec="seconds"),
                }
            )
    for name, cuisine in places:
        street = f"{rng.randint(1, 9999)} {rng.choice(LAST_NAMES).title()} {rng.choice(['St', 'Ave', 'Rd', 'Blvd'])}"
        yield {
            **item_keys.restaurant_index_attributes(name, cuisine),
            "name": name,
            "cuisine": cuisine,
            "address": f"{street}, Springfield",
            **counters[name],
        }
    for username in people:
        yield {
            **item_keys.user_item_keys(username),
            "username": username,
            "password": "!" + rng.randbytes(20).hex(),  # unusable, as make_password(None) writes
            "is_active": True,
            "is_staff": False,
            "is_superuser": False,
            "date_joined": START.isoformat(),
        }
    yield from reviews
