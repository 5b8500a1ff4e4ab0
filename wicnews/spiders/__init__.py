"""Spiders of wicnews."""
