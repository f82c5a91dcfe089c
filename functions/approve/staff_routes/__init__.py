"""Routers of the staff API, one module per area, each included by ``app.py`` under ``/v1/staff``."""
