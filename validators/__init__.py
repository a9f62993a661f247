"""Decisions: intake, scan quality, applicant and registry checks, verdict rules."""
