"""Automation: jobs and schedules that span domains."""
