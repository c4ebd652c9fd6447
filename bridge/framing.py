"""What both protocol sessions share: the buffer of frames to send, and decoding what
arrives with a budget for bad frames (each one answered with an Error frame; a peer
that keeps sending garbage is given up on)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from . import protocol as p

MAX_BAD_FRAMES = 10

A = TypeVar("A")


class Framing(ABC, Generic[A]):
    peer = "peer"  # named in the reason for giving up

    def __init__(self) -> None:
        self.bad_frames = 0
        self._out: list[bytes] = []

    @property
    @abstractmethod
    def closed(self) -> bool:
        """True once the session has ended: nothing more is received or sent."""

    def data_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def _send(self, frame: p.Frame) -> None:
        if not self.closed:
            self._out.append(p.encode(frame))

    def receive_data(self, data: bytes | str) -> list[A]:
        """Decode and handle one frame; returns what the I/O shell must do."""
        if self.closed:
            return []
        try:
            frame = p.decode(data)
        except p.ProtocolError as exc:
            self.bad_frames += 1
            self._send(exc.frame())
            if self.bad_frames >= MAX_BAD_FRAMES:
                return self._give_up(f"{self.peer} sent {self.bad_frames} bad frames; last: {exc}")
            return []
        return self._receive(frame)

    @abstractmethod
    def _receive(self, frame: p.AnyFrame) -> list[A]:
        """Handle one well-formed frame; the protocol's rules for this side."""

    @abstractmethod
    def _give_up(self, reason: str) -> list[A]:
        """Close the session after too many bad frames; the action that says so."""
