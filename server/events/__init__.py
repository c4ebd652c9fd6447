"""Events: what happened, written in the same transaction as the change (outbox.py), read
through GET /api/events (feed.py) and sent to webhooks (server/webhooks/)."""
