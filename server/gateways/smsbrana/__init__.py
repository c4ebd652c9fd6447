"""smsbrana.cz SMS Connect: protocol core, HTTP client, gateway, inbox polling."""
