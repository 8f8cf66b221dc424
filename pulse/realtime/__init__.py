"""What travels between ingest and the web processes: group and message names
(``broadcast``), the relay consumer base (``relay``) and per-client flow control
(``flow_control``)."""
