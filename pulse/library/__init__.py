"""The library pages: watchlist management and the event history.

One module per concept: ``watchlists`` holds the transactional operations on a user's
watchlists, ``forms`` and ``event_filters`` validate input, ``*_views`` render pages,
``csv_export`` streams the filtered event history.
"""
