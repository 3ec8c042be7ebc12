"""Reports built from the store: the SLA report and the incident document."""
