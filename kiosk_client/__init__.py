"""The agent on a kiosk PC: pairs, polls, caches media and serves the player locally."""
