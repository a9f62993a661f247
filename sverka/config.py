"""Every tunable default in one strict model.

Values come from the defaults below, overridden by ``SVERKA_<NAME>`` environment
variables (for example ``SVERKA_MAX_FILE_BYTES=10485760``) or by keyword arguments.
Unknown fields are refused so that a typo in a setting fails loudly.
"""

from __future__ import annotations

import os
from datetime import date

from pydantic import BaseModel, ConfigDict

from sverka.models import FileFormat


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- intake
    max_file_bytes: int = 5 * 1024 * 1024
    allowed_formats: tuple[FileFormat, ...] = (FileFormat.PDF, FileFormat.JPEG, FileFormat.PNG)
    max_pages: int = 10
    # 40 Mpx covers an A4 page at 600 dpi with room to spare; more is a decompression bomb.
    max_pixels: int = 40_000_000
    file_name_template: str = r"^[^_/\\]+_[^_/\\]+_\d{4}-\d{2}-\d{2}\.[A-Za-z0-9]+$"

    # --- pages
    render_dpi: int = 300
    # Text layers shorter than this are treated as absent (a scan wrapped in a PDF).
    min_text_layer_chars: int = 40

    # --- quality
    min_dpi: float = 150.0
    # Variance of the Laplacian on the page scaled to 1000 px wide; below it the page is blurred.
    min_sharpness: float = 60.0

    # --- OCR
    ocr_languages: str = "rus+eng"
    ocr_timeout_seconds: float = 60.0

    # --- matching and verdicts
    name_match_threshold: float = 0.9
    approve_min_confidence: float = 0.8
    certificate_number_patterns: tuple[str, ...] = (r"\d{10,15}",)

    # --- storage
    database_url: str = "sqlite:///sverka.sqlite"
    object_store_url: str = "file://verdicts-store"

    # --- run
    today: date | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            raw = os.environ.get(f"SVERKA_{name.upper()}")
            if raw is None:
                continue
            if field.annotation and "tuple" in str(field.annotation):
                values[name] = tuple(v.strip() for v in raw.split(",") if v.strip())
            else:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    def check_date(self) -> date:
        return self.today or date.today()


DEFAULT_SETTINGS = Settings()

