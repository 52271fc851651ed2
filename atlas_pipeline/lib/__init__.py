"""Reusable code imported by the Dagster definitions (not autoloaded)."""
