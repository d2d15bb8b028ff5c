"""driftcheck: why one Cloud Run service fails while its peer works, and where live config drifted."""

__version__ = "0.1.0"
