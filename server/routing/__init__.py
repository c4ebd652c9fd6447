"""Routing of agent-backed messages to lines: the pure planner and its database side."""
