"""Dagster definitions by domain: ingest, transform (dbt), quality, forecast, report, automation."""
