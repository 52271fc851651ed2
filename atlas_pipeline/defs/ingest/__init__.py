"""Ingestion: one asset per declared export source (`assets/sources/*.yaml`)."""
