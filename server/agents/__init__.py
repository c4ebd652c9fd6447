"""The server's side of the bridge: the /agent WebSocket, routing jobs to the agent that
owns an account's line, and turning the agents' events into message states."""
