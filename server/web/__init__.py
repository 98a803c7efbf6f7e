"""The server-rendered admin UI, one blueprint per feature."""
