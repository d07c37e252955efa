"""Pulse Console: terminal operations console and ETL engine."""

__version__ = "0.1.0"
