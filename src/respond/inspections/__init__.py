"""Inspections (巡检): definitions (inspections/*.yaml), their compilation into a run of
``check`` steps, and reading their graded results back from the record."""
