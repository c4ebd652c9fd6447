"""Operations and the API's shape: /healthz, /metrics, OpenAPI, errors for unknown routes."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from server.runtime import Server
from tests.server.conftest import Api, error_of


async def test_healthz_needs_no_token(api: Api) -> None:
    r = await api.get("/healthz", token=None)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "writer": "ok"}


async def test_metrics_count_messages_by_state_and_gateway(api: Api) -> None:
    for _ in range(2):
        await api.post("/api/messages", json={"to": "+420774884138", "text": "x"})
    account = await api.account(name="Web")
    await api.post("/api/messages", json={"to": "9000", "text": "x", "account": account["id"]})
    r = await api.get("/metrics", token=None)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }
    out = (("direction", "out"),)
    assert (
        samples[("smsbridge_messages", (*out, ("gateway", "smsbrana"), ("state", "queued")))] == 2
    )
    assert samples[("smsbridge_messages", (*out, ("gateway", "url"), ("state", "sent")))] == 1
    assert samples[("smsbridge_queue_depth", (("gateway", "smsbrana"),))] == 2
    assert samples[("smsbridge_agents_connected", ())] == 0
    assert samples[("smsbridge_message_commit_batches", ())] >= 1
    posted = (
        "smsbridge_http_request_duration_seconds_count",
        (("method", "POST"), ("route", "/api/messages"), ("status", "202")),
    )
    assert samples[posted] == 3


async def test_openapi_lists_every_endpoint_of_the_design(api: Api) -> None:
    r = await api.get("/api/openapi.json", token=None)
    assert r.status_code == 200
    spec = r.json()
    paths = {(p, m) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    assert paths >= {
        ("/api/messages", "post"),
        ("/api/messages", "get"),
        ("/api/messages/{message_id}", "get"),
        ("/api/messages/preview", "post"),
        ("/api/accounts", "get"),
        ("/api/accounts", "post"),
        ("/api/accounts/{account_id}", "get"),
        ("/api/accounts/{account_id}", "patch"),
        ("/api/accounts/{account_id}", "delete"),
        ("/api/agents", "get"),
        ("/api/agents", "post"),
        ("/api/users", "get"),
        ("/api/users", "post"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    }
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    send = spec["paths"]["/api/messages"]["post"]
    assert "202" in send["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in send["parameters"])


async def test_unknown_route_and_wrong_method_use_the_error_shape(api: Api) -> None:
    assert error_of(await api.get("/api/nothing-here")) == (404, "not_found")
    assert error_of(await api.request("PUT", "/api/messages")) == (405, "method_not_allowed")


async def test_healthz_fails_when_the_message_writer_stopped(api: Api, server: Server) -> None:
    await server.writer.stop()
    r = await api.get("/healthz", token=None)
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "ok", "writer": "stopped"}
    await server.writer.start()
