"""Our model layer on DynamoDB: one table, typed entities, one entry point.

- ``keys``: the only place that builds key strings; ``names``: what a
  restaurant name may be (it becomes a key and a URL).
- ``client``: the only place that talks to DynamoDB.
- ``entities``: dataclasses for restaurants and reviews.
- ``selectors``: reads, one per access pattern; ``services``: writes.
- ``schema``: creating and upgrading the table; ``bulk``: batch loads;
  ``typed_json``: the backup's lossless format; ``item_checks``: what a bulk
  write (or a stream consumer) may let in.
"""
