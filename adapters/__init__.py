"""Adapters: turn what posts and carriers send (CN 23 CSV, ITMATT XML, express manifests)
into aedex messages. Pure: bytes or text in, models or bytes out; no I/O, no framework."""
