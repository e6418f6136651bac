"""Seed data: reference data (districts, parks, areas, carriers, industries, plan targets) and demo data."""
