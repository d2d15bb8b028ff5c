"""Comparison: deepdiff over canonical forms (`diff`), whether a baseline is a real peer (`likeness`), and the
change types the later stages share."""
