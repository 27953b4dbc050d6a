"""The demo network: Moscow's CAR-T network with synthetic patients (marked as such)."""
