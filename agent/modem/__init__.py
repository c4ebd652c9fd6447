"""GSM modems: AT engine, PDU codec, drivers and the virtual modem."""
