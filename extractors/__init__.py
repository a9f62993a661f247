"""Turn a file into text and fields: text layer, pages, OCR, MRZ, field parsers."""
