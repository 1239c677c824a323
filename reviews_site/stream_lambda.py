"""A Lambda on the table's DynamoDB Stream: the production alternative to
running ``manage.py follow_stream`` as a service.

Handler: ``reviews_site.stream_lambda.handler``. The function runs the site's
code with its settings (``DYNAMODB_TABLE``, ``REDIS_URL``... as for the web
servers) in the VPC of the Redis cluster. Lambda's event source mapping keeps
the position in each shard and drains parents before children; a batch that
raises (Redis or DynamoDB unreachable) is retried, which is safe: applying a
change twice has no effect that matters.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviews_site.settings")
django.setup()

from restaurants import stream_follower  # noqa: E402  (needs the settings above)


def handler(event: dict, context: object) -> dict:
    stream_follower.records_apply(event.get("Records", []))
    return {"batchItemFailures": []}
