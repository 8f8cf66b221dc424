"""The event history: filters (``filters``), the list, detail and CSV export pages
(``views``, ``csv_export``) and the plain-words explanation of one event."""
