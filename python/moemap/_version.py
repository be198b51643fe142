"""The package's version: the libmoemap release it is written against (the struct sizes
are checked against the loaded library at import, see _lib.py)."""
__version__ = "0.1.0"
