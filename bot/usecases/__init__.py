"""The use cases: what Firebreak does, one module per capability. They see the outside world
(Slack, the database, the clock, the scheduler) only through the protocols in ``ports``."""
