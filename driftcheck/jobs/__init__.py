"""The jobs, each one end to end: compare (offline and live), drift, audit with its parity checks, shards,
notifications and history. Only the CLI imports them."""
