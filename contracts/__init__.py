"""What everything shares and nothing of the project is imported by: models, page records,
the reason catalogue, settings, the exception tree, masking, the registry CSV format and
the JSON Schemas (docs/architecture.md)."""
