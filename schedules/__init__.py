"""Schedule data (``*.toml``), installed as ``wicnews.schedules``; the code that reads and
runs it is ``wicnews.scheduler``."""
