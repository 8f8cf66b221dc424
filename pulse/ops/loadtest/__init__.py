"""The ``loadtest`` command's library: N authenticated WebSocket clients and what they saw.

Sessions are created for the run directly in the database (users ``loadtest-<k>`` without
watchlists, so every client sees the whole market and every broadcast reaches it), then N
clients connect with the ``websockets`` package from one asyncio process. For every message
the client records ``receipt wall time - message time``: a snapshot's ``ts`` (engine time of
its newest tick) or an event's ``ts`` (the tick that fired it). With the simulator, event
time is wall time, so this is the whole path tick -> engine -> Redis -> daphne -> client.

Clients acknowledge what they processed once a second, as the dashboard page does (the
server's flow control drops snapshots to, and finally disconnects, pages that fall behind).
Losses are measured two ways: every client should receive every stress event (whole-market
users), so an event some client lacks is a dropped event; and at the end each client asks
the server for its socket's counters (``{"action": "stats"}``: snapshots dropped because the
client lagged). Jumps in ``seq`` are reported too, but the consumer legitimately skips
messages (the broadcast correlation matrix), so they are not losses by themselves.

One job per module:

- ``sessions``: log-in sessions for the run's users, created and deleted in the database;
- ``clients``: the asyncio run, one WebSocket client per task (connect, ack, read, stats);
- ``client_stats``: what one client saw, counted message by message (latency, seq, events);
- ``processes``: CPU and memory of the server processes from ``/proc``, and this process's
  file-descriptor limit;
- ``report``: the run's figures (percentiles, losses, CPU per process) and their text form.
"""
