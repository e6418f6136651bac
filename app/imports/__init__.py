"""Excel/CSV imports (rosters, yearly indicators, recognitions) and exports (issue 6)."""
