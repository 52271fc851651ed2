"""The DuckDB warehouse and the dbt project that builds it (and the same project on Spark)."""
