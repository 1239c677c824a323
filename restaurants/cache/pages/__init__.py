"""The anonymous page cache: page addresses (Django's own URL patterns), page
groups and their retirement, and the CDN purges that follow them."""
