"""Our model layer on DynamoDB: one table, typed entities, one entry point.

- ``keys``: the only place that builds key strings.
- ``client``: the only place that talks to DynamoDB.
- ``entities``: dataclasses for restaurants and reviews.
- ``selectors``: reads, one per access pattern; ``services``: writes.
- ``schema``: creating and upgrading the table; ``bulk``: batch loads.
"""
