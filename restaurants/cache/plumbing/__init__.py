"""Redis itself: the one guard around every call (with its circuit breaker),
connections (TLS, cluster), the restart check, the Lua scripts, and the
topology the dashboard shows."""
