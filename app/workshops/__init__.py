"""Workshop mode: a trainer runs a live, anonymous group self-assessment and shows where the group disagrees."""
