"""Forecasts, budgets and the spend trend's definition."""
