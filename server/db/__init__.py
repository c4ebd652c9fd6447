"""Storage: the tables, the engine, and the migrations that create and upgrade them."""
