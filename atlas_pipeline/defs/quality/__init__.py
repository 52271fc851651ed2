"""Quality gates: the Great Expectations suites in `checks/` as Dagster asset checks."""
