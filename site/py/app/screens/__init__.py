"""One module per screen: its route (what to show) and its actions (what it does)."""
