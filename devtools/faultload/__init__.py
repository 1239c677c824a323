"""``python -m devtools.faultload``: the site under a bounded load while Redis fails.

Our issue asks, for each Redis fault, how many 5xx visitors saw, whether any
confirmed review was lost, whether anyone was told something untrue, and
whether any page was stale after recovery. Unit and fault tests prove single
requests right; this measures the same faults under concurrent traffic, with
two gunicorn workers whose caches, circuits and pending invalidations are
each their own, which is where races hide.

It starts DynamoDB Local (in memory, seeded with a small demo set), then for
each fault real redis-server processes (behind a TCP proxy where the
endpoint must move or fail), gunicorn pointed at them, anonymous readers and
logged-in writers on 127.0.0.1 only; it injects the fault mid-load, recovers,
lets things settle and compares every answer with DynamoDB. Results go to
stdout and ``var/faultload/results.md``; everything it started is stopped on
exit, Ctrl-C included. About two and a half minutes on a 2-core machine.
"""
