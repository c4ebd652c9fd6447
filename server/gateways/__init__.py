"""Gateways: where an account's outbound messages go. One implementation per gateway id."""
