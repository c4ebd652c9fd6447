"""Messages: what a text becomes before sending, how it is stored, who may see it."""
