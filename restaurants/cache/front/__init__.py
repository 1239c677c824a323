"""What answers a request before and around Django: the WSGI front (a page-cache
hit served before Django exists for the request) and the middleware (hits when
there is no front, and storing each miss)."""
