"""Local stand-ins for DynamoDB and Redis: never used in production.

``make run``, ``make bench`` and the integration tests need a DynamoDB
endpoint and a Redis server without Docker or AWS. ``dynamodb`` starts AWS's
DynamoDB Local (a Java child process) or, where no Java runtime can be had,
moto's server in a thread; ``redis_server`` and ``redis_cluster`` start real
``redis-server`` processes. Every child dies with the process that started it.
"""
