"""The REST API: one module per resource, plus errors, auth and the body shapes."""
