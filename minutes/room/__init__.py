"""The live meeting room: attendance, points, decisions, actions, review, live updates."""
