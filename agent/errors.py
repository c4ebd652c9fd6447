"""The agent's exceptions, one tree with one root:

    AgentError                      anything the agent raises on purpose
    ├── ConfigError                 agent.toml is missing or wrong (agent/config.py)
    ├── OutboxFull                  the outbox refuses more (agent/bridge/outbox.py)
    ├── ModemError                  a modem problem in words a person can act on, with an
    │                               ErrorClass (agent/modem/interface.py)
    ├── MemoryRefused               the modem refused a message store (agent/modem/inbox.py)
    ├── CommandTimeout(TimeoutError)  no final answer to an AT command
    │                                 (agent/modem/at_session.py)
    ├── SubmitUnknown(TimeoutError)   no answer after the PDU: it may have been sent (ditto)
    ├── PortLost(ConnectionError)   the serial port went away (agent/modem/link.py)
    ├── USBRebindError(OSError)     sysfs refused the USB re-bind (agent/modem/usb.py)
    ├── USSDError(ValueError)       a USSD code or answer that cannot be used (agent/modem/ussd.py)
    ├── PDUError(ValueError)        a PDU that cannot be decoded (agent/modem/pdu_fields.py)
    ├── SpoolFileError(ValueError)  an smstools3 spool file that cannot be read
    │                               (agent/spool/smstools_headers.py)
    ├── SmslibJobError(ValueError)  a job SMSServer's table cannot hold
    │                               (agent/spool/smslib_queries.py)
    └── SmslibUrlError(ValueError)  an SMSLib sqlDriver/sqlURL we cannot map
                                    (agent/spool/smslib_url.py)

Each class stays beside the code that raises it; the second base (TimeoutError,
ValueError, ...) stays so that `except ValueError` callers keep working. This module
imports nothing of ours, so every module may import the root without a cycle.
tests/test_agent_errors.py checks that the tree above is the whole of it.
"""

from __future__ import annotations


class AgentError(Exception):
    """The root of every exception the agent defines."""
