"""Merchant Desk: a back-office for small shops taking Amazon Pay."""

__version__ = "0.1.0"
