"""KPI reporting: SLA compliance, times to intervene and restore, breaches and what is at risk."""
