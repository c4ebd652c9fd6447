"""The central server: SMS accounts, users, messages, REST API, web gateways, agents."""
