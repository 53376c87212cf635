"""Alerts: who is told what about which trip, composed from templates and sent exactly once."""
