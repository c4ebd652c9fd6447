"""Lines to SMS daemons that own their queues: smstools3's spool directories and SMSLib
SMSServer's SQL tables. Both implement `events.SpoolBackend` (submit a job, events back through
an async callback, health) so a bridge drives them like any other line.

- events.py          jobs, events, line health, the SpoolBackend protocol
- account.py         account `key = value` settings → a line's config Struct
- smstools_headers.py / smstools_codec.py   spool files, pure (bytes ⇄ Structs)
- smstools_state.py  atomic staged writes into outgoing/, pending jobs, awaited reports
- smstools_watch.py  inotify (watchdog) → "look at this path" on the asyncio loop
- smstools_events.py what each smsd file means as an event, pure
- smstools_line.py   the smstools3 line
- smslib_url.py      sqlDriver/sqlURL (JDBC) → SQLAlchemy URL, pure
- smslib_tables.py / smslib_queries.py      SMSServer's tables and every statement we issue
- smslib_line.py     the SMSLib line (polling, durable cursor)

May import: sms/, bridge/ (the job id's pattern), agent/errors.py. Never agent/bridge,
agent/lines, agent/modem or agent/commands; agent/lines/spool.py makes these lines speak
the bridge's protocol.
"""
