"""cartflow: vein-to-vein orchestration for a CAR-T cell therapy network."""

__version__ = "0.1.0"
