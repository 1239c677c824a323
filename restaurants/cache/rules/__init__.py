"""What every cache shares: key formats, TTLs and waits, the clock, and the
release rendered things are keyed by."""
