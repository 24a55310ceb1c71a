"""Pieces every app shares: the error hierarchy and the API's error format."""
