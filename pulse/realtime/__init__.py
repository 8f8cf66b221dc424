"""What travels between ingest, the web processes and the clients: channel-layer groups,
types and the publisher (``broadcast``), every message a client receives (``messages``) and
its schema (``schema``), the consumer base both sockets share (``relay``) and per-client
flow control (``flow_control``)."""
