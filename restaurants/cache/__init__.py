"""Our Redis layer: key formats, TTLs and the caches built on them."""
