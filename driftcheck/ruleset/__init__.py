"""The rule engine: loads declarative rules (top-level `rules/`), evaluates them, ranks what they find.

Named apart from the `rules/` data folder on purpose: rules are data, this is the code that runs them.
"""
