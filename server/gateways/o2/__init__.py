"""O2 Czech Republic SMS Connector (HTTP GET/POST): protocol core, TLS, gateway, receive loop."""
