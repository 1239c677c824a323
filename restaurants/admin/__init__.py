"""The staff admin: Django's admin site, look and login, on a site with no ORM.

Nothing here touches a SQL table: the index is our cache dashboard with the
latest audit records (instead of ``LogEntry``'s "recent actions"), and the
pages are our own views, each wrapped by ``admin_view`` (staff only, CSRF).
"""
