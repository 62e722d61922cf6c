"""The mark of a client's turn on the tablet (a meta value, read at every start-up) and how long
an untouched turn lasts: kept apart from ``medex.client_turn`` so reading them imports nothing
else (the turn's forms and scoring are imported only when a turn is open)."""

TURN_META_KEY = "client_turn"
IDLE_SECONDS = 5 * 60  # a turn left untouched this long locks the device
