"""Pure SLA engine: service-hour calendars and clocks. Standard library and `holidays` only."""
