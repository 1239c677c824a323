"""The data caches: restaurant summaries, fragments and page shells, the board
(the leaderboard and the list pages it orders), visitors' profiles and own
reviews, the logged-in page's one read, and the hit/miss counters."""
