"""Sub-commands of `sms-agent`; each module has register(subparsers) and a handler.

- run.py             `run` and `status`: the agent process (agent/bridge/runtime.py)
- modems.py, probe.py, ussd.py, send.py, pdu.py   a technician's tools beside a modem
- virtual_modem.py   `virtual-modem`: the built-in modem on a pty, for demos and tests
- output.py          printing for people or as JSON

May import anything of the agent (it is the top), bridge/ and sms/; nothing imports it
but agent/cli.py.
"""
