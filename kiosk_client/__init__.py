"""The agent on a kiosk PC: pairs, polls, caches media and serves the player locally.

It depends on `content` (the player's files) and `requests` only, so it installs on a
small kiosk without the server's libraries.
"""

__version__ = "0.1.0"
