"""The searchable form of a name (restaurants/dynamo/normalise.py) and the
name-search index's item_keys built from it (restaurants/dynamo/item_keys.py)."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from restaurants.dynamo import item_keys
from restaurants.dynamo.names import restaurant_name_problem
from restaurants.dynamo.normalise import MAX_BYTES, normalised_name


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Café", "cafe"),
        ("CAFÉ", "cafe"),
        ("#1 Café", "cafe"),
        ("The Grill", "grill"),
        ("the   GRILL ", "grill"),
        ("The #1 Diner", "diner"),
        ("#BBQ Shack", "bbq shack"),  # a hashtag, not a rank: only its "#" goes
        ("Café #2", "cafe 2"),  # a rank later in the name stays a word
        ("Joe's Pizza", "joes pizza"),
        ("Joe’s Pizza", "joes pizza"),  # typographic apostrophe
        ("St. John Bistro", "st john bistro"),
        ("Salt & Smoke", "salt smoke"),
        ("Tex-Mex/Grill", "tex mex grill"),
        ("Straße 7", "strasse 7"),
        ("Smørrebrød Ærø", "smorrebrod aero"),
        ("Crème Brûlée", "creme brulee"),
        ("Ｃａｆé", "cafe"),  # full-width letters
        ("Zoë's Café 東京", "zoes cafe 東京"),
        ("The", "the"),  # nothing follows: kept, or the name would have no searchable form
        ("#1", "1"),
        ("***", ""),
    ],
)
def test_the_normal_form_leaves_out_case_accents_punctuation_and_a_leading_the_or_rank(text, normal):
    assert normalised_name(text) == normal


@pytest.mark.parametrize(
    ("query", "name"),
    [("cafe", "#1 Café"), ("CAFÉ", "#1 Café"), ("#1 caf", "#1 Café"), ("the gr", "The Grill"), ("grill", "The Grill")],
)
def test_a_query_is_a_prefix_of_the_names_it_should_find(query, name):
    assert item_keys.name_search_sort_key(name).startswith(item_keys.name_search_prefix(query))


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=300))
def test_the_normal_form_is_its_own_normal_form_and_fits_its_byte_budget(text):
    normal = normalised_name(text)
    assert normalised_name(normal) == normal
    assert len(normal.encode("utf-8")) <= MAX_BYTES
    assert "#" not in normal and normal == normal.strip() and "  " not in normal


_WORDS = st.lists(
    st.text(st.characters(categories=("L", "M", "N", "P", "S")), min_size=1, max_size=8), min_size=1, max_size=5
).map(" ".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_WORDS, _WORDS)
def test_what_is_typed_up_to_a_word_end_finds_the_name(start, rest):
    """A name's start, typed as it is written, finds it; the one exception is
    a start that is only a leading "the" or rank, which the name drops."""
    name = f"{start} {rest}"
    typed = normalised_name(start)
    assume(restaurant_name_problem(name) is None and typed)
    assume(typed != "the" and not typed.isdigit())
    assert item_keys.name_search_sort_key(name).startswith(item_keys.name_search_prefix(start))


def test_the_sort_key_orders_by_normal_form_then_name_shorter_first():
    names = ["Café Bar", "cafeteria", "#1 Café", "The Café", "Cafe 2", "Bistro"]
    ordered = sorted(names, key=item_keys.name_search_sort_key)
    assert ordered == ["Bistro", "#1 Café", "The Café", "Cafe 2", "Café Bar", "cafeteria"]


def test_equal_normal_forms_keep_distinct_sort_keys():
    assert item_keys.name_search_sort_key("Café") != item_keys.name_search_sort_key("CAFE")
    assert item_keys.name_search_sort_key("Café").split(item_keys.NAME_SEARCH_SEPARATOR) == ["cafe", "Café"]


def test_restaurant_items_carry_the_name_search_keys():
    attributes = item_keys.restaurant_index_attributes("#1 Café", "French")
    assert attributes["GSI4PK"] == "NAMES"
    assert attributes["GSI4SK"] == "cafe ##1 Café"


def test_the_longest_names_the_rule_allows_still_fit_a_sort_key():
    widest = "\U0001f355" * 200  # 200 four-byte characters, 800 bytes: the rule's limit
    ligatures = "\ufdfa" * 200  # each expands to 18 letters under NFKD
    for name in (widest, ligatures, "a" * 200):
        assert restaurant_name_problem(name) is None
        assert len(item_keys.name_search_sort_key(name).encode("utf-8")) <= item_keys.SORT_KEY_MAX_BYTES


def test_a_longer_name_another_client_wrote_still_gets_a_sort_key_dynamodb_takes():
    """The name rule caps names at 800 bytes; the table itself takes up to the
    1,019 bytes a ``REST#<name>`` sort key leaves, and such an item must still
    be indexable (the stream follower adds its item_keys)."""
    rogue = "é" * 509  # 1,018 bytes
    key = item_keys.name_search_sort_key(rogue)
    assert restaurant_name_problem(rogue) is not None
    assert len(key.encode("utf-8")) <= item_keys.SORT_KEY_MAX_BYTES and key.endswith(" #" + rogue)
