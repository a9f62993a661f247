"""Typed values that flow between the stages and out of the pipeline.

Everything here survives a JSON round trip (``model_dump(mode="json")`` and
``model_validate``), so stage results can travel through Airflow XCom unchanged.
Page images are the one exception: they stay inside the worker (see ``extractors.pages``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.reasons import CATALOGUE, ReasonCode, Severity

SCHEMA_VERSION = 1


class DocType(StrEnum):
    PASSPORT_RF = "passport_rf"
    PASSPORT_INTL = "passport_intl"
    SNILS = "snils"
    DIPLOMA = "diploma"
    CERTIFICATE = "certificate"


class VerdictStatus(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REVIEW = "review"


class FileFormat(StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"


class FieldSource(StrEnum):
    TEXT_LAYER = "text_layer"
    OCR = "ocr"
    MRZ = "mrz"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------- input: the manifest


class SurnameChange(_Model):
    """A former surname the applicant declares, and why it changed (e.g. «заключение брака»).

    Documents issued under it are accepted as the applicant's (docs/contracts.md §8).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
    previous_last_name: str
    reason: str = ""  # a change without a reason does not count (CROSS_DOCUMENT_MISMATCH)

    @property
    def declared(self) -> bool:
        return bool(self.previous_last_name.strip() and self.reason.strip())


class Applicant(_Model):
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date | None = None
    snils: str | None = None
    surname_changes: list[SurnameChange] = Field(default_factory=list)


class DeclaredFields(_Model):
    model_config = ConfigDict(frozen=True, extra="ignore")
    series: str | None = None
    number: str | None = None
    issue_date: date | None = None


class DocumentEntry(_Model):
    model_config = ConfigDict(frozen=True, extra="ignore")
    document_id: str
    file: str
    type: str | None = None  # what the applicant chose; may be missing or not a DocType
    declared: DeclaredFields | None = None

    @property
    def declared_type(self) -> DocType | None:
        try:
            return DocType(self.type) if self.type else None
        except ValueError:
            return None


class Manifest(_Model):
    model_config = ConfigDict(frozen=True, extra="ignore")
    submission_id: str
    submitted_at: datetime | None = None
    applicant: Applicant
    documents: list[DocumentEntry]


# ---------------------------------------------------------------- findings and reasons


class Finding(_Model):
    """What a stage found: a catalogue code, the field it concerns, and why (for operators)."""

    code: ReasonCode
    field: str | None = None
    detail: str | None = None  # English, for operators and stewards; never holds full numbers

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code].severity


class Reason(_Model):
    """A finding as the applicant sees it, with the catalogue's Russian texts."""

    code: ReasonCode
    severity: Severity
    field: str | None = None
    message: str
    action: str
    detail: str | None = None

    @classmethod
    def from_finding(cls, finding: Finding) -> Reason:
        entry = CATALOGUE[finding.code]
        return cls(code=finding.code, severity=entry.severity, field=finding.field,
                   message=entry.message, action=entry.action, detail=finding.detail)


# ---------------------------------------------------------------- stage results


class IntakeResult(_Model):
    file_format: FileFormat | None = None
    sha256: str | None = None
    size_bytes: int = 0
    page_count: int | None = None
    findings: list[Finding] = Field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not any(f.severity is Severity.REJECT for f in self.findings)


class PageQuality(_Model):
    page_index: int
    width: int
    height: int
    dpi: float | None = None
    sharpness: float | None = None  # variance of the Laplacian, scale-normalised
    brightness: float | None = None
    glare_fraction: float | None = None
    glyph_height: float | None = None  # median character height in pixels
    paper_level: float | None = None  # grey level of the bare paper (0 black .. 255 white)
    text_contrast: float | None = None  # paper level minus the darkest 1% of the page
    shadowed_text: float | None = None  # share of glyphs under a deep shadow
    cut_glyphs: int = 0  # glyphs cut by one side of the image (the worst side)
    cut_sides: list[str] = Field(default_factory=list)  # where the paper runs off the image


class QualityResult(_Model):
    pages: list[PageQuality] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)


class ExtractedFields(_Model):
    """Fields read from a document. Empty fields are omitted when published."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    series: str | None = None
    number: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    issue_date: date | None = None
    valid_until: date | None = None
    issuer: str | None = None
    subdivision_code: str | None = None
    registration_number: str | None = None
    specialty: str | None = None
    qualification: str | None = None
    nationality: str | None = None
    confidence: float = 0.0
    source: FieldSource | None = None
    field_sources: dict[str, FieldSource] = Field(default_factory=dict)
    field_confidence: dict[str, float] = Field(default_factory=dict)


class FieldsResult(_Model):
    detected_type: DocType | None = None
    extracted: ExtractedFields = Field(default_factory=ExtractedFields)
    findings: list[Finding] = Field(default_factory=list)


class RegistryRecord(_Model):
    record_id: str
    snils: str | None = None
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date | None = None
    doc_type: DocType
    series: str = ""
    number: str
    issue_date: date | None = None
    valid_until: date | None = None
    issuer: str | None = None
    specialty: str | None = None
    status: str = "active"


class RegistryMatch(_Model):
    record_id: str
    score: float
    fields: dict[str, float] = Field(default_factory=dict)


class MatchResult(_Model):
    registry_match: RegistryMatch | None = None
    findings: list[Finding] = Field(default_factory=list)


class StageRecord(_Model):
    """How one stage went, for operators: outcome, codes found, and time spent."""

    stage: str
    outcome: str  # "ok", "stopped" (a reject ends the document), "error", "skipped"
    codes: list[ReasonCode] = Field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------- output: verdicts


class DocumentVerdict(_Model):
    schema_version: int = SCHEMA_VERSION
    submission_id: str
    document_id: str
    file: str
    sha256: str | None = None
    declared_type: DocType | None = None
    detected_type: DocType | None = None
    verdict: VerdictStatus
    resubmit: bool = False
    reasons: list[Reason] = Field(default_factory=list)
    extracted: ExtractedFields = Field(default_factory=ExtractedFields)
    registry_match: RegistryMatch | None = None
    stages: list[StageRecord] = Field(default_factory=list)
    checked_at: datetime
    engine_version: str

    @property
    def codes(self) -> list[ReasonCode]:
        return [r.code for r in self.reasons]


class DocumentSummary(_Model):
    document_id: str
    file: str
    verdict: VerdictStatus
    codes: list[ReasonCode] = Field(default_factory=list)


class SubmissionVerdict(_Model):
    schema_version: int = SCHEMA_VERSION
    submission_id: str
    verdict: VerdictStatus
    reasons: list[Reason] = Field(default_factory=list)  # submission-level reasons
    documents: list[DocumentSummary] = Field(default_factory=list)
    checked_at: datetime
    engine_version: str


class SubmissionResult(_Model):
    """What ``verify_submission`` returns: the summary and every document's verdict."""

    summary: SubmissionVerdict
    documents: list[DocumentVerdict]
    applicant_key: str | None = None  # hashed identity, for duplicate detection
