"""Item pipelines of wicnews, one module each, in the order they run:

normalise (canonical URL, whitespace) -> relevance (WIC topic verdict) -> dedupe (keys)
-> store (INSERT ... ON CONFLICT: the database decides what is new).

Each module starts with the pure functions it wraps; the pipeline class is a thin adapter.
"""
