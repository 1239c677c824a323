"""The one place that builds PK/SK/GSI key strings.

Key design (compatible with the AWS purpose-built-databases restaurant lab):

    item         PK                SK                GSI1PK / GSI1SK
    restaurant   REST#<name>       REST#<name>       REST#<name> / REST#<name>
    review       USER#<username>   REST#<name>       REST#<name> / #REVIEW#<ksuid>
    user         USER#<username>   #PROFILE          -
    email        EMAIL#<address>   USER#<username>   -   (who gave that address: password resets)
    audit        AUDIT             <time>#<ksuid>    -   (staff actions, newest last)
    checkpoint   STREAM#<label>    <shard id>        -   (follow_stream's position)
    skipped      STREAM#SKIPPED    <sequence number> -   (a stream record follow_stream could not apply)
    session      SESSION#<key>     #SESSION          -   (a login's session; TTL attribute expires_at)

A GSI1 query on ``REST#<name>`` in descending order returns the restaurant item
first ("R" sorts after "#") and then its reviews newest first, because KSUIDs
sort by time. The user's profile sort key starts with "#" so it sorts before
the user's reviews.

The lab's own ``create_review.py`` writes ``GSI1SK = REVIEW#<ksuid>``, without
the leading "#" of its items.json. Such a review sorts *after* the restaurant
("V" > "S"), so first in the descending query: readers must allow for it until
``upgrade_table --repair`` rewrites it (``is_misplaced_review``).

Our additions, both sparse indexes carried only by restaurant items:

    GSI2  GSI2PK = CUISINE#<cuisine>, GSI2SK = <name>   restaurants by cuisine
    GSI3  GSI3PK = RESTAURANTS,       GSI3SK = <name>   all restaurants by name
    GSI4  GSI4PK = NAMES,             GSI4SK = <normalised name> #<name>
                                                        name search (begins_with)

GSI4 projects only what a search result shows (``NAME_SEARCH_PROJECTED``), so
the star counters a review write changes never cost it a write. Its sort key
leads with the searchable form of the name (``normalise.normalised_name``);
the name itself follows, so equal forms stay distinct and come in name order.
The separator " #" sorts below every letter and digit (and a normalised name
holds no "#"), so "Café" comes before "Café Bar", and no query ever reaches
into the name part.
"""

from .normalise import normalised_name

REST_PREFIX = "REST#"
USER_PREFIX = "USER#"
REVIEW_PREFIX = "#REVIEW#"
LAB_SCRIPT_REVIEW_PREFIX = "REVIEW#"  # what the lab's create_review.py writes
CUISINE_PREFIX = "CUISINE#"
PROFILE_SK = "#PROFILE"
ALL_RESTAURANTS = "RESTAURANTS"
NAME_SEARCH_PARTITION = "NAMES"
NAME_SEARCH_SEPARATOR = " #"

CUISINE_INDEX = "GSI2"
ALL_RESTAURANTS_INDEX = "GSI3"
REVIEWS_INDEX = "GSI1"
NAME_SEARCH_INDEX = "GSI4"
# The attributes a search result shows, besides the keys (GSI4's INCLUDE projection).
NAME_SEARCH_PROJECTED = ("name", "cuisine", "address")

EMAIL_PREFIX = "EMAIL#"
AUDIT_PK = "AUDIT"
STREAM_PREFIX = "STREAM#"
SESSION_PREFIX = "SESSION#"
SESSION_SK = "#SESSION"
# The table's TTL attribute (epoch seconds): only session items carry it.
EXPIRY_ATTRIBUTE = "expires_at"
# Stream labels are times ("2024-05-01T12:00:00.000"), so this partition is no stream's.
SKIPPED_RECORDS_PARTITION = f"{STREAM_PREFIX}SKIPPED"

# DynamoDB's limits on key values, in UTF-8 bytes (tables and indexes alike);
# an empty string is refused in any key attribute.
PARTITION_KEY_MAX_BYTES = 2048
SORT_KEY_MAX_BYTES = 1024

# A single bookkeeping item that lists the cuisines, so the filter needs no Scan.
CUISINES_ITEM_KEY = {"PK": "META", "SK": "CUISINES"}


def restaurant_key(name: str) -> str:
    return f"{REST_PREFIX}{name}"


def user_key(username: str) -> str:
    return f"{USER_PREFIX}{username}"


def review_sort_key(review_id: str) -> str:
    return f"{REVIEW_PREFIX}{review_id}"


def cuisine_key(cuisine: str) -> str:
    return f"{CUISINE_PREFIX}{cuisine}"


def restaurant_item_keys(name: str) -> dict[str, str]:
    key = restaurant_key(name)
    return {"PK": key, "SK": key}


def restaurant_index_attributes(name: str, cuisine: str) -> dict[str, str]:
    """Every key attribute a restaurant item carries, lab ones and ours."""
    key = restaurant_key(name)
    return {
        "PK": key,
        "SK": key,
        "GSI1PK": key,
        "GSI1SK": key,
        "GSI2PK": cuisine_key(cuisine),
        "GSI2SK": name,
        "GSI3PK": ALL_RESTAURANTS,
        "GSI3SK": name,
        f"{NAME_SEARCH_INDEX}PK": NAME_SEARCH_PARTITION,
        f"{NAME_SEARCH_INDEX}SK": name_search_sort_key(name),
    }


def name_search_sort_key(name: str) -> str:
    """``<normalised name> #<name>``: at most 200 + 2 + 800 bytes for any name
    the name rule allows, within a sort key's 1,024. A longer name another
    client wrote (its ``REST#<name>`` holds up to 1,019 bytes of it) keeps a
    shorter normal form, so that its item can still be indexed."""
    suffix = f"{NAME_SEARCH_SEPARATOR}{name}"
    return normalised_name(name, max_bytes=SORT_KEY_MAX_BYTES - len(suffix.encode("utf-8"))) + suffix


def name_search_prefix(query: str) -> str:
    """What a search's sort key must begin with: the query's normal form (a
    caller never searches for an empty one, which DynamoDB refuses)."""
    return normalised_name(query)


def review_item_keys(*, username: str, restaurant: str, review_id: str) -> dict[str, str]:
    return {
        "PK": user_key(username),
        "SK": restaurant_key(restaurant),
        "GSI1PK": restaurant_key(restaurant),
        "GSI1SK": review_sort_key(review_id),
    }


def user_item_keys(username: str) -> dict[str, str]:
    return {"PK": user_key(username), "SK": PROFILE_SK}


def normalised_email(address: str) -> str:
    """An address as the email lookup keys it: lower case, so a reset asked
    for ``Kim@Example.com`` finds ``kim@example.com`` (as Django's ``iexact``)."""
    return address.strip().lower()


def email_key(address: str) -> str:
    return f"{EMAIL_PREFIX}{normalised_email(address)}"


def email_lookup_keys(address: str, username: str) -> dict[str, str]:
    """One item per (address, account): several accounts may give one address."""
    return {"PK": email_key(address), "SK": user_key(username)}


def audit_item_keys(record_id: str) -> dict[str, str]:
    return {"PK": AUDIT_PK, "SK": record_id}


def stream_checkpoint_keys(stream_label: str, shard_id: str) -> dict[str, str]:
    """Where follow_stream keeps its position in one shard of one stream."""
    return {"PK": stream_checkpoint_partition(stream_label), "SK": shard_id}


def stream_checkpoint_partition(stream_label: str) -> str:
    return f"{STREAM_PREFIX}{stream_label}"


def skipped_record_keys(position: str) -> dict[str, str]:
    """Where a stream record follow_stream could not apply is kept (``position``:
    its sequence number, zero-padded so that the records sort in order)."""
    return {"PK": SKIPPED_RECORDS_PARTITION, "SK": position}


def session_item_keys(session_key: str) -> dict[str, str]:
    return {"PK": f"{SESSION_PREFIX}{session_key}", "SK": SESSION_SK}


def is_session_item(item: dict) -> bool:
    return item.get("PK", "").startswith(SESSION_PREFIX) and item.get("SK") == SESSION_SK


def repaired_review_sort_key(sort_key: str) -> str:
    """``REVIEW#<ksuid>`` (the lab script's) as the lab's items.json writes it."""
    return review_sort_key(sort_key.removeprefix(LAB_SCRIPT_REVIEW_PREFIX))


def restaurant_name_of(key: str) -> str:
    """The name in ``REST#<name>`` (a restaurant's PK, a review's SK)."""
    return key.removeprefix(REST_PREFIX)


def username_of(key: str) -> str:
    """The name in ``USER#<username>``."""
    return key.removeprefix(USER_PREFIX)


def is_restaurant_item(item: dict) -> bool:
    return item.get("PK", "").startswith(REST_PREFIX) and item.get("PK") == item.get("SK")


def is_review_item(item: dict) -> bool:
    """A review on GSI1, in the lab's items.json form or its create_review.py form."""
    return item.get("GSI1SK", "").startswith((REVIEW_PREFIX, LAB_SCRIPT_REVIEW_PREFIX))


def is_misplaced_review(item: dict) -> bool:
    """A review with the lab script's ``GSI1SK``, which sorts before its restaurant."""
    return item.get("GSI1SK", "").startswith(LAB_SCRIPT_REVIEW_PREFIX)


def is_review_key(pk: str, sk: str) -> bool:
    """A review's base-table key, whatever its GSI1 attributes say."""
    return pk.startswith(USER_PREFIX) and sk.startswith(REST_PREFIX)


def is_profile_key(pk: str, sk: str) -> bool:
    return pk.startswith(USER_PREFIX) and sk == PROFILE_SK


def is_stream_checkpoint(item: dict) -> bool:
    return item.get("PK", "").startswith(STREAM_PREFIX)
