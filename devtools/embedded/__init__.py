"""Local stand-ins for DynamoDB and Redis: never used in production.

``make run`` and the integration tests need a DynamoDB endpoint and a Redis
server without Docker or AWS. This package starts moto's DynamoDB server in a
thread (serialized and patched so transactions stay correct and fast, see
``fast_transactions``) and a real ``redis-server`` as a child process. Nothing
in the deployed site imports it; production talks to real AWS and Redis.
"""
