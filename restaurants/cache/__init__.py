"""Our Redis layer, by concern, each package above those it uses:

    front/        the WSGI front and the middleware
    operations/   flushes, the dashboard's figures, warming
    invalidation  what a write retires (ours, and others' through the stream)
    data/         summaries, fragments, the board, visitors, counters
    accounts/     sessions and throttles
    pages/        the anonymous page cache and CDN purges
    plumbing/     Redis connections, the guard, the restart check, Lua scripts
    rules/        key formats, TTLs, the clock, the release

``tests/test_layers.py`` holds the packages to that order (pyproject.toml).
"""
