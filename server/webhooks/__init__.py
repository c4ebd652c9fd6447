"""Webhooks: every event, signed per the Standard Webhooks specification, to the CRM's
endpoints, durably, in order per message, retried for days (server/webhooks/)."""
