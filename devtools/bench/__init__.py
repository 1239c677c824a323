"""``python -m devtools.bench``: what our caches buy, measured end to end.

The bench starts DynamoDB Local and moto's server (each behind a relay that
counts requests by operation), a real Redis and gunicorn processes running
``devtools.bench.settings``, seeds the demo data, then measures with wrk:

a. a minimal Django view (the same middleware, no data);
b. an anonymous restaurant page served by our page cache;
c. the same page through Django's stock ``cache_page``;
d. the same page for a logged-in visitor (summary and fragment caches);
e. the same anonymous page with ``CACHE_ENABLED=false`` (e-moto: on moto);
f. a bare WSGI application answering the hit's exact bytes from memory on
   the same gunicorn: the floor of this server stack, which a hit approaches;
   f-redis: the same reading them with one Redis ``HGET``, the floor of any
   hit that asks Redis;
g, h. the search page, cached and not;
w. list and restaurant pages under review posts (1 request in 50, and 1 a second).

For each it also counts DynamoDB requests and Redis round trips per page view
over sequential requests, then runs the stampede cases (a cold summary under
200 concurrent requests). Results go to stdout and ``var/bench/results.md``.
Everything listens on 127.0.0.1 and is stopped on exit, Ctrl-C included.
"""
