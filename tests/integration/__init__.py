"""Integration tests: connectors driven through real client libraries against local fake servers."""
