"""The agent's side of the bridge: what keeps jobs and events safe on this machine and
carries them to and from the server.

- outbox.py          the durable SQLite outbox (jobs in, events out, parts of long SMS)
- lines.py           the Line contract every device adapter meets, and its LineWorker
- allow_list.py      which pushed keys and paths this machine allows
- supervisor.py      starts, restarts and stops lines (allow-list, factories)
- crash_recovery.py  settles what a crash left in the outbox
- connection.py      the WebSocket client with backoff (drives bridge/agent_session.py)
- runtime.py         Agent: composes the above; `sms-agent run`
- status_socket.py   the local socket `sms-agent status` reads

May import: bridge/ (the protocol), sms/, agent/errors.py, and agent/spool/smslib_allow.py
(the allow-list's pure database check). Never agent/lines, agent/modem or agent/commands:
the lines plug in through the factories `sms-agent run` passes to Agent.
"""
