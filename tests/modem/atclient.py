"""A tiny blocking AT client for tests: pyserial + the AT engine, no driver."""

from __future__ import annotations

import time

import serial

from agent.modem.at import ATEngine, Event, Final, Info, Prompt, Unsolicited


class ATClient:
    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.05)
        self.engine = ATEngine()
        self.urcs: list[Unsolicited] = []
        self._backlog: list[Event] = []  # events read past the one waited for

    def close(self) -> None:
        self.port.close()

    def _events(self, until: type, timeout: float) -> list[Event]:
        deadline = time.monotonic() + timeout
        events: list[Event] = []
        while time.monotonic() < deadline:
            if not self._backlog:
                self._backlog = self.engine.receive_data(self.port.read(4096))
            while self._backlog:
                event = self._backlog.pop(0)
                if isinstance(event, Unsolicited):
                    self.urcs.append(event)
                    continue
                events.append(event)
                if isinstance(event, until):
                    self.urcs += [e for e in self._backlog if isinstance(e, Unsolicited)]
                    self._backlog = [e for e in self._backlog if not isinstance(e, Unsolicited)]
                    return events
        raise TimeoutError(f"no {until.__name__} within {timeout}s; got {events}")

    def command(self, cmd: str, timeout: float = 3.0) -> tuple[list[str], Final]:
        self.port.write(self.engine.send(cmd))
        events = self._events(Final, timeout)
        final = events[-1]
        assert isinstance(final, Final)
        return [e.line for e in events if isinstance(e, Info)], final

    def wait_final(self, timeout: float = 3.0) -> tuple[list[str], Final]:
        events = self._events(Final, timeout)
        final = events[-1]
        assert isinstance(final, Final)
        return [e.line for e in events if isinstance(e, Info)], final

    def send_pdu(self, length: int, pdu: str, timeout: float = 3.0) -> tuple[list[str], Final]:
        self.port.write(self.engine.send(f"AT+CMGS={length}"))
        events = self._events(Prompt, timeout)
        assert isinstance(events[-1], Prompt), events
        self.port.write(self.engine.send_pdu(pdu))
        events = self._events(Final, timeout)
        final = events[-1]
        assert isinstance(final, Final)
        return [e.line for e in events if isinstance(e, Info)], final

    def wait_urc(self, name: str, timeout: float = 3.0) -> Unsolicited:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for urc in self.urcs:
                if urc.name == name:
                    self.urcs.remove(urc)
                    return urc
            for event in self.engine.receive_data(self.port.read(4096)):
                if isinstance(event, Unsolicited):
                    self.urcs.append(event)
        raise TimeoutError(f"no {name} URC within {timeout}s")
