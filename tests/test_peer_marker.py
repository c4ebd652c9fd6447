import pytest

from tests import peers


@pytest.fixture
def absent_peer(monkeypatch):
    monkeypatch.setitem(peers.PEERS, "nothing", lambda: "nothing is here")
    peers.missing.cache_clear()
    yield "nothing"
    peers.missing.cache_clear()


def test_a_missing_peer_skips_on_a_laptop(absent_peer, monkeypatch):
    monkeypatch.delenv("SMSBRIDGE_REQUIRE_PEERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nothing is here"):
        peers.require_peer(absent_peer)


def test_a_missing_peer_fails_when_peers_are_required(absent_peer, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_REQUIRE_PEERS", "1")
    with pytest.raises(pytest.fail.Exception, match=r"required .* but nothing is here"):
        peers.require_peer(absent_peer)


def test_a_present_peer_lets_the_test_run(monkeypatch):
    monkeypatch.setitem(peers.PEERS, "here", lambda: None)
    peers.missing.cache_clear()
    monkeypatch.setenv("SMSBRIDGE_REQUIRE_PEERS", "1")
    peers.require_peer("here")
