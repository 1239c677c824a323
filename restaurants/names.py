"""The restaurant-name rule, URL form and searchable form, for the web layer.

``restaurants.dynamo.names`` and ``restaurants.dynamo.normalise`` own them (a
name becomes a key, so the key layer decides what a name may be and how it is
searched); they are re-exported here, not copied, so the
admin's forms and the URL converter use the very functions ``load_items``,
``import_table`` and the model layer use, without the web importing the model
layer (the import-linter contracts in pyproject.toml).
"""

from .dynamo.names import (
    URL_SEGMENT_MAX_LENGTH,
    name_from_url_segment,
    name_to_url_segment,
    restaurant_name_problem,
)
from .dynamo.normalise import QUERY_MAX_LENGTH, normalised_name

__all__ = [
    "QUERY_MAX_LENGTH",
    "URL_SEGMENT_MAX_LENGTH",
    "name_from_url_segment",
    "name_to_url_segment",
    "normalised_name",
    "restaurant_name_problem",
]
