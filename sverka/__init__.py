"""Sverka: verification of medical workers' documents against the register."""

__version__ = "0.1.0"
