"""Prometheus metrics, in a registry of the server's own (no process-global collectors, so
two servers in one process, as in the tests, do not collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .modem_metrics import ModemMetrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_latency = Histogram(
            "smsbridge_http_request_duration_seconds",
            "Time to answer an API request",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.messages = Gauge(
            "smsbridge_messages",
            "Messages in the store by direction, state and gateway",
            ["direction", "state", "gateway"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "smsbridge_queue_depth",
            "Outbound messages waiting for their gateway (state queued)",
            ["gateway"],
            registry=self.registry,
        )
        self.agents_connected = Gauge(
            "smsbridge_agents_connected",
            "Agents connected over the WebSocket",
            registry=self.registry,
        )
        self.commit_pending = Gauge(
            "smsbridge_commit_pending",
            "Messages waiting for the group-commit writer",
            registry=self.registry,
        )
        self.commit_batches = Gauge(
            "smsbridge_message_commit_batches",
            "Transactions the group-commit writer has committed since start",
            registry=self.registry,
        )

        self.line_segments = Gauge(
            "smsbridge_line_segments",
            "SMS segments a line sent in the window (minute: last 60 s, day: last 24 h)",
            ["agent", "line", "window"],
            registry=self.registry,
        )
        self.line_limit = Gauge(
            "smsbridge_line_limit",
            "A line's budget of segments per window (only budgets that are set)",
            ["agent", "line", "window"],
            registry=self.registry,
        )
        self.line_taking_jobs = Gauge(
            "smsbridge_line_taking_jobs",
            "1 when the line takes jobs now, else 0 (see GET /api/agents for why)",
            ["agent", "line"],
            registry=self.registry,
        )

        self.agent_refused = Counter(
            "smsbridge_agent_refused",
            "Acks, events and line statuses refused because the agent may not touch that "
            "job or line (server/agents/authority.py)",
            ["agent", "reason"],
            registry=self.registry,
        )
        self.modem = ModemMetrics(self.registry)  # modem lines' care (server/modem_metrics.py)
        # Webhooks (server/webhooks/): attempts by result, what waits, endpoints by status.
        self.webhook_deliveries = Gauge(
            "smsbridge_webhook_deliveries_total",
            "Webhook attempts by result since this process started (delivered, retry, "
            "gave_up, gone)",
            ["result"],
            registry=self.registry,
        )
        self.webhook_backlog = Gauge(
            "smsbridge_webhook_backlog",
            "Webhook deliveries not yet delivered",
            registry=self.registry,
        )
        self.webhook_oldest = Gauge(
            "smsbridge_webhook_oldest_undelivered_seconds",
            "Age of the oldest event not yet delivered to an active webhook",
            registry=self.registry,
        )
        self.webhooks = Gauge(
            "smsbridge_webhooks",
            "Webhooks by status (ok, failing, disabled)",
            ["status"],
            registry=self.registry,
        )

    def refused(self, agent: str, reason: str) -> None:
        self.agent_refused.labels(agent, reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
