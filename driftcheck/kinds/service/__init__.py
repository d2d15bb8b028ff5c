"""The Cloud Run service kind: read from a Knative export (`knative.py`) or the v2 API shape (`cloudrun_v2.py`)."""
