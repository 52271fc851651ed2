"""Forecasts: daily-partitioned spend forecasts with prediction intervals."""
