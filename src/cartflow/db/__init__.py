"""Database plumbing: declarative base, portable column types, engine and the unit of work."""
