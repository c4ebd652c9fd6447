"""wss:// with a private CA: the agent trusts the server through agent.toml's `ca`, and
refuses a server its CA did not sign."""

from __future__ import annotations

import asyncio
import contextlib

import trustme

from agent.bridge.runtime import Agent
from agent.config import AgentConfig

from .live import ADMIN_TOKEN, eventually, live_server
from .test_bridge_live import MODEM_CONFIG, ScriptedLine


async def test_the_agent_connects_over_wss_with_its_ca_and_refuses_another(tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    chain, key, ca_file = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))

    async with live_server(
        f"sqlite:///{tmp_path}/s.sqlite",
        str(tmp_path / "k"),
        tls=(str(chain), str(key), str(ca_file)),
    ) as server:
        token = (await server.api("POST", "/api/agents", json={"name": "office-1"}))["token"]
        await server.api(
            "POST",
            "/api/accounts",
            json={"name": "GSM1", "gateway": "modem", "config": MODEM_CONFIG},
        )
        lines: dict[str, ScriptedLine] = {}

        def factory(push):
            lines[push.line] = ScriptedLine(push.line, dict(push.config))
            return lines[push.line]

        def agent_with(ca_path) -> Agent:
            return Agent(
                AgentConfig(
                    server=server.ws_url,
                    name="office-1",
                    token=token,
                    state_dir=str(tmp_path / f"agent-{ca_path.stem}"),
                    allow=["/dev/gsmmodem*"],
                    ca=str(ca_path),
                ),
                {"modem": factory},
            )

        stranger = agent_with(other_ca)
        task = asyncio.create_task(stranger.run())
        await eventually(lambda: stranger.last_error, what="the untrusted server to be refused")
        assert "CERTIFICATE_VERIFY_FAILED" in stranger.last_error
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        stranger.outbox.close()

        agent = agent_with(ca_file)
        task = asyncio.create_task(agent.run())
        try:
            await eventually(lambda: "GSM1" in lines, what="the line over wss")
            (listed,) = await server.api("GET", "/api/agents")
            assert listed["online"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            agent.outbox.close()
