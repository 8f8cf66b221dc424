"""Per-user alert rules: matching events, throttling, webhook delivery and its log."""
