"""Demo data and its loader; the loader calls the same services as real data."""
