"""Development tooling, never shipped: only ``reviews_site.settings_dev`` installs this app.

``embedded/`` starts local stand-ins for DynamoDB and Redis, ``bench/`` is
``make bench``, ``demo.py`` generates the demo data, and ``management/``
holds the commands that use them (``run_local``, ``seed_demo``,
``cache_benchmark``). Production settings, ``requirements.txt`` and the
site's own code import nothing from here.
"""
