"""Reports: the offline HTML overview built from the marts and the forecasts."""
