"""The simulated shop day: ``scripts/shop-day`` (see README.md, "Simulating a shop day")."""
