"""Vitrina's central service: the Flask app, persistence, admin UI, APIs and CLI."""
