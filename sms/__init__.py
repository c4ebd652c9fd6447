"""Pure SMS domain code shared by the agent and the server: no I/O here."""
