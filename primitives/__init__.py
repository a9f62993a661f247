"""Domain functions more than one stage stands on: name normalisation, check digits,
document numbers, grey-level measurements, the sandbox that runs decoders. Imports only
``contracts`` (docs/architecture.md)."""
