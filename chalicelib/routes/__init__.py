"""HTTP routes beyond the core API, as Chalice blueprints registered by app.py."""
