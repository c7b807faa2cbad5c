"""A stand-in for the Steam Web API and the FACEIT Data API, for the Schemathesis run.

Answers the four calls Ayubi makes (crates/game-platforms) with small documents of the
platforms' shapes, for any account, so GET /games/stats is exercised end to end rather
than answered "not configured" (503, by the contract). Usage: platforms.py PORT
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

STEAM_SUMMARIES = {"response": {"players": [{"steamid": "76561197960287930", "personaname": "gabe"}]}}
STEAM_OWNED = {"response": {"game_count": 1, "games": [{"appid": 730, "name": "Counter-Strike 2", "playtime_forever": 1200}]}}
FACEIT_PLAYER = {"player_id": "0f1c2d3e", "nickname": "player", "games": {"cs2": {"skill_level": 5, "faceit_elo": 1200}}}
FACEIT_STATS = {"lifetime": {"Matches": "10", "Win Rate %": "50", "Average K/D Ratio": "1.1"}}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = urlparse(self.path).path.rstrip("/")
        if path.endswith("/GetPlayerSummaries/v2"):
            body = STEAM_SUMMARIES
        elif path.endswith("/GetOwnedGames/v1"):
            body = STEAM_OWNED
        elif path.endswith("/stats/cs2"):
            body = FACEIT_STATS
        elif path.endswith("/players"):
            body = FACEIT_PLAYER
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
