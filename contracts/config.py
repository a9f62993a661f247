"""Every tunable default in one strict model.

Values come from the defaults below, overridden by ``SVERKA_<NAME>`` environment
variables (for example ``SVERKA_MAX_FILE_BYTES=10485760``) or by keyword arguments.
Unknown fields are refused so that a typo in a setting fails loudly.
"""

from __future__ import annotations

import os
from datetime import date

from pydantic import BaseModel, ConfigDict

from contracts.models import FileFormat


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- intake
    max_file_bytes: int = 5 * 1024 * 1024
    allowed_formats: tuple[FileFormat, ...] = (FileFormat.PDF, FileFormat.JPEG, FileFormat.PNG)
    max_pages: int = 10
    # 40 Mpx covers an A4 page at 600 dpi with room to spare; more is a decompression bomb.
    max_pixels: int = 40_000_000
    file_name_template: str = r"^[^_/\\]+_[^_/\\]+_\d{4}-\d{2}-\d{2}\.[A-Za-z0-9]+$"
    # Hostile uploads (docs/intake.md): all PDF streams together may inflate to this much;
    # a ten-page Flate-encoded 300 dpi colour scan needs about 260 MB.
    max_pdf_inflated_bytes: int = 512 * 1024 * 1024
    # pdfium drops objects nested deeper than 64 levels; deeper is a parser bomb.
    max_pdf_nesting: int = 64
    max_manifest_bytes: int = 1024 * 1024
    max_manifest_documents: int = 50
    # Intake's decode and PDF page loading run in a child process with these limits.
    decoder_sandbox: bool = True
    decoder_timeout_seconds: float = 30.0
    decoder_memory_mb: int = 1024  # address space on top of what the worker already has

    # --- pages
    render_dpi: int = 300
    # Text layers shorter than this are treated as absent (a scan wrapped in a PDF).
    min_text_layer_chars: int = 40

    # --- quality
    min_dpi: float = 150.0
    # Edge steepness (gradient over text contrast, glyphs scaled to 12 px); below it: blurred.
    min_sharpness: float = 0.21
    # Scan quality gate and preprocessing; docs/quality.md gives the reasoning for each default.
    min_glyph_height_px: float = 9.0
    max_glyph_points: float = 12.0
    untrusted_dpis: tuple[float, ...] = (72.0, 96.0)
    glare_level: float = 250.0
    glare_margin: float = 8.0
    max_glare_fraction: float = 0.002
    # Glare hides print: glyphs inside a bright patch at under this share of their
    # density around it (a soft light gradient leaves the print showing).
    glare_max_print_share: float = 0.3
    shadow_ratio: float = 0.5
    max_shadowed_text: float = 0.1
    min_paper_level: float = 70.0
    min_text_contrast: float = 20.0
    # A page with no glyphs whose darkest 1% is within this of the paper is blank.
    blank_max_contrast: float = 6.0
    max_cut_glyphs: int = 1
    outline_colour_distance: float = 18.0
    outline_min_fill: float = 0.2
    outline_max_clutter: float = 0.1
    max_keystone_degrees: float = 1.5
    sideways_profile_ratio: float = 1.4
    reorient_below_confidence: float = 0.6
    # A page read below this mean OCR confidence (or with fewer characters) is not legible.
    legible_min_confidence: float = 0.55
    legible_min_chars: int = 40

    # --- OCR
    ocr_languages: str = "rus+eng"
    # The OCR of one document runs in a child process with these limits (wall clock and
    # CPU time; address space on top of the worker's), and no single Tesseract call may
    # take longer than the time limit either (docs/extraction.md).
    ocr_timeout_seconds: float = 60.0
    ocr_memory_mb: int = 1024
    ocr_sandbox: bool = True
    # Folder of rus/eng/osd .traineddata; empty: $TESSDATA_PREFIX or the OS package's folder.
    ocr_tessdata_dir: str = ""

    # --- matching and verdicts
    name_match_threshold: float = 0.9
    approve_min_confidence: float = 0.8
    certificate_number_patterns: tuple[str, ...] = (r"\d{10,15}",)

    # --- registry (docs/registry.md)
    # Registry updates trail new documents: a NOT_IN_REGISTRY this many hours or less after
    # submission is held as REGISTRY_PENDING and re-checked when the next snapshot lands.
    registry_lag_hours: float = 24.0
    # A number one character away from a record counts only if the record's name agrees
    # at least this well (stricter than name_match_threshold: the number is uncertain).
    registry_fuzzy_name_threshold: float = 0.95
    # Look-ups that fail because the database is down are tried this often in all.
    registry_retry_attempts: int = 3
    registry_retry_wait_seconds: float = 0.5
    # A snapshot with fewer rows than this share of the current one is refused (truncated).
    registry_min_row_ratio: float = 0.9
    # Rows per chunk when validating a snapshot; bounds the validation's memory.
    registry_validation_chunk_rows: int = 200_000

    # --- storage
    database_url: str = "sqlite:///sverka.sqlite"
    object_store_url: str = "file://verdicts-store"
    # An Airflow connection (type aws) with the verdict store's keys and endpoint; read by
    # the DAG layer only, the core never sees Airflow. Empty: boto3's own chain.
    object_store_conn_id: str = ""

    # --- inbox sweep (dags/sweep_inbox.py): submissions uploaded but never verified
    inbox_url: str = "file://inbox"
    # One sweep triggers at most this many submissions; the next sweep takes the rest.
    sweep_max_submissions: int = 200

    # --- steward review (dags/review_documents.py, docs/review.md)
    # A required action unanswered this long escalates; the item stays open and is asked
    # again, first in line, by the next review run.
    review_response_timeout_minutes: float = 8 * 60.0
    # Required actions one review run opens at most; the next run takes the rest.
    review_batch_size: int = 20
    # Where stewards open scans: <base>/<submission_id>/<file>. Empty: the inbox itself
    # (inbox_url), which suits a shared folder; for S3 give a gateway the stewards can reach.
    review_scan_base_url: str = ""

    # --- monitoring (docs/runbook.md)
    # A verify_documents run should finish within this long after it is queued; past it,
    # the run's DeadlineAlert fires. 0 leaves the deadline out (needed for `airflow dags
    # test`, which in Airflow 3.3.2 cannot finish a DAG that has one; docs/operations.md).
    verify_run_deadline_minutes: float = 60.0
    # A submission should be decided (every document approved or rejected) within this
    # long after Sverka first received it; check_deadlines reports those past it.
    decision_target_hours: float = 72.0
    # The daily report covers one calendar day in this time zone, and shows this many reasons.
    report_timezone: str = "Europe/Moscow"
    report_top_reasons: int = 12

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

