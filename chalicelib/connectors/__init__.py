"""Connectors: one module per source, each turning a source into normalised CalendarEvents."""
