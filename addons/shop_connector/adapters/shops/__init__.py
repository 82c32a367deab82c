"""Order adapters, one module per shop platform, sharing :mod:`.http` and :mod:`.base`."""
