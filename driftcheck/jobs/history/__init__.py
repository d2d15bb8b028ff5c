"""Snapshot history: `store` keeps snapshots, `timeline` reads one service's changes across them."""
