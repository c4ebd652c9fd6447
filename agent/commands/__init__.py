"""Sub-commands of `sms-agent`; each module has register(subparsers) and a handler."""
