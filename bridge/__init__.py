"""The agent ↔ server protocol, shared by both halves and owned by neither.

- `protocol.py`: every frame as a msgspec Struct (the one definition).
- `framing.py`: JSON text frames ↔ Structs, with the size bound.
- `agent_session.py`, `server_session.py`: the two sides as state machines without I/O
  (fed frames, they return actions and `data_to_send()`), as websockets keeps its client
  and server beside its protocol.

May import: `sms/` and the standard library, msgspec. Never `agent/` or `server/`: both
of those import this package.
"""
