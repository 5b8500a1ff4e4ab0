"""wicnews: monitor press coverage of the World Internet Conference (Wuzhen Summit)."""

__version__ = "0.1.0"
