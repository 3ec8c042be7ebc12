"""Graded checks: the Nagios plugin result contract and the built-in checks (pure: what to
read and how to grade it; the ``check`` executor reads, inspections schedule and report)."""
