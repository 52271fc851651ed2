"""Reading what providers and clusters deliver: declarations, file contracts, object stores, landing."""
