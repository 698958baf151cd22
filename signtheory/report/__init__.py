"""Reports of ``signtheory verify``: ``report.json`` (plain data, every number of every
row), ``report.md`` (the rate table a reader checks first) and the figures."""

from .markdown import markdown_table, verdict_summary, write_report

__all__ = ["markdown_table", "verdict_summary", "write_report"]
