"""The edge agent: carries jobs to a device and events back, and never loses either."""
