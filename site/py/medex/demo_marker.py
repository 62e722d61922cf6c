"""The mark of the demo practice's database (a meta value), read at start-up: kept apart from
``medex.demo`` so reading it imports nothing else."""

DEMO_META_KEY = "demo_practice"
