"""GSM modems: the AT engine (sans-I/O), the PDU codec, the asyncio driver, the libgammu
backend, the recovery ladder and the virtual modem; README.md lists every module.

May import: sms/, bridge/ (only for shapes the line reports, e.g. the signal history),
agent/errors.py. Never agent/bridge, agent/lines, agent/spool or agent/commands: a modem
knows nothing of the server; agent/lines/modem.py makes it a line.
"""
