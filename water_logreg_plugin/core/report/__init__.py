"""The HTML report: html.py writes the page and its tables, figures.py draws its plots."""

from .html import MAX_BAND_PAIRS, write_assessment_report, write_training_report

__all__ = ["MAX_BAND_PAIRS", "write_assessment_report", "write_training_report"]
