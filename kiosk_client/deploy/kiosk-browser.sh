#!/bin/sh
# Open the local Vitrina player full screen in Chromium and keep it there.
# VITRINA_KIOSK_PORT (default 8765) must match the agent's port.
set -eu
PORT="${VITRINA_KIOSK_PORT:-8765}"
URL="http://127.0.0.1:${PORT}/player/"
PROFILE="${XDG_STATE_HOME:-$HOME/.local/state}/vitrina-kiosk-browser"
BROWSER="$(command -v chromium || command -v chromium-browser || command -v google-chrome)"
mkdir -p "$PROFILE"
# Wait for the agent (it serves the player even with no network).
i=0
until curl -fsS -o /dev/null "$URL" 2>/dev/null || [ "$i" -ge 60 ]; do
  i=$((i + 1)); sleep 1
done
# A crash or power cut must not bring up "restore pages?" over the screen.
sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[^"]*"/"exit_type":"Normal"/' \
  "$PROFILE/Default/Preferences" 2>/dev/null || true
exec "$BROWSER" --kiosk --noerrdialogs --disable-infobars --disable-session-crashed-bubble \
  --no-first-run --check-for-update-interval=31536000 --disable-features=Translate \
  --autoplay-policy=no-user-gesture-required --overscroll-history-navigation=0 \
  --user-data-dir="$PROFILE" "$URL"
