"""Reports over the record: pure figures from stored summaries, and their renderings.

``respond.reports.sla`` computes the SLA figures (incidents per level, clocks met or missed,
times to respond and restore, escalations, the vendor's performance, drills listed apart);
``respond.reports.sla_render`` turns them into a terminal table, Markdown, HTML with an
inline chart, CSV and JSON. Nothing here reads events: the incident summaries the store keeps
in the same transaction as each append are the only input, so a report over ten thousand
incidents is one query.
"""
