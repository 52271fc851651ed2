"""Data-quality rules that run in Python: GX suites at the raw boundary and the quality report."""
