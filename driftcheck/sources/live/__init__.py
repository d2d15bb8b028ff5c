"""Live sources: the Google Cloud APIs read through the official clients, read-only.

Imported only when a live run is asked for: the offline path never loads google.* or grpc (a second of start-up).
"""
