"""The recipe: file -> intake -> pages -> quality -> fields -> registry match -> verdict,
then, once every document of a submission is read, the consistency stage across them.

This module only orders the stages and keeps the record of each; the stage bodies
live in ``validators/`` and ``extractors/``. ``verify_document`` and
``verify_submission`` are the two functions both the ``sverka`` command and the
Airflow DAGs call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError

from contracts.config import DEFAULT_SETTINGS, Settings
from contracts.errors import InvalidObjectKey, ObjectNotFound, OcrFailed
from contracts.models import (
    DocType,
    DocumentEntry,
    DocumentSummary,
    DocumentVerdict,
    ExtractedFields,
    Finding,
    Manifest,
    Reason,
    RegistryMatch,
    StageRecord,
    SubmissionResult,
    SubmissionVerdict,
    VerdictStatus,
)
from contracts.pages import PageSet
from contracts.reasons import ReasonCode, Severity
from extractors.fields import read_fields
from extractors.ocr import Tesseract, read_document_text, text_layer_document
from extractors.pages import load_pages
from extractors.preprocess import prepare_pages
from storage.inbox import Limited, read_manifest_limited, read_upload
from storage.objectstore import ObjectStore
from storage.publish import applicant_key
from storage.uploads import Claim, Upload
from sverka import __version__
from validators.applicant import check_applicant
from validators.consistency import ReadDocument, check_consistency
from validators.intake import check_intake, manifest_problem, unsafe_file_name, upload_key
from validators.quality import check_quality, is_blank
from validators.registry_match import RegistryLookup, hold_for_registry_lag, match_registry
from validators.verdict import (
    decide,
    dedupe,
    ordered,
    split_notes,
    submission_status,
    weigh_quality,
)

log = logging.getLogger("sverka.pipeline")


class DuplicateIndex(Protocol):
    """Records each upload at intake and finds earlier uploads of the same content by other
    applicants, atomically (storage/uploads.py: concurrent workers see each other)."""

    def claim(self, upload: Upload) -> Claim: ...


@dataclass
class VerifyContext:
    """What every document needs besides its bytes: settings and the services it calls."""

    settings: Settings
    registry: RegistryLookup
    ocr: Tesseract
    duplicates: DuplicateIndex | None = None


@dataclass
class _Record:
    """Accumulates findings, stage records and stage outputs for one document.

    Findings are kept by what they rest on, for ``weigh_quality``: the quality stage's
    (``quality``: they never stop the document by themselves), the reading's (``reading``:
    fields, applicant, registry) and the rest (``findings``: intake, failures).
    """

    findings: list[Finding] = field(default_factory=list)
    quality: list[Finding] = field(default_factory=list)
    reading: list[Finding] = field(default_factory=list)
    stages: list[StageRecord] = field(default_factory=list)
    stopped: bool = False
    # What the stages produced so far; a stage that failed leaves its part empty.
    sha256: str | None = None
    detected_type: DocType | None = None
    extracted: ExtractedFields = field(default_factory=ExtractedFields)
    registry_match: RegistryMatch | None = None

    @contextmanager
    def stage(self, name: str, kind: str = "other") -> Iterator[Callable[[list[Finding]], None]]:
        """Times stage ``name`` and files its findings by ``kind``: "other", "reading" or
        "quality" (recorded, held for weighing, never stopping the document)."""
        started = time.perf_counter()
        found: list[Finding] = []
        outcome = "ok"
        try:
            yield found.extend
        except Exception:
            outcome = "error"
            raise
        finally:
            if kind != "quality" and outcome == "ok" and any(
                    f.severity is Severity.REJECT for f in found):
                outcome, self.stopped = "stopped", True
            {"quality": self.quality, "reading": self.reading}.get(
                kind, self.findings).extend(found)
            self.stages.append(StageRecord(stage=name, outcome=outcome,
                                           codes=[f.code for f in found],
                                           seconds=round(time.perf_counter() - started, 4)))


def verify_document(manifest: Manifest, entry: DocumentEntry, data: bytes | None,
                    context: VerifyContext, *, unread_size: int | None = None
                    ) -> DocumentVerdict:
    """One uploaded file -> its verdict. Never raises: a failure ends as review.

    ``unread_size``: the stored size of an upload not read because it is over the limit.
    """
    record = _Record()
    crashed = False
    try:
        _run_stages(manifest, entry, data, context, record, unread_size)
    except Exception as exc:  # the one place that turns any failure into a verdict
        log.exception("processing failed: submission=%s document=%s stage=%s",
                      manifest.submission_id, entry.document_id,
                      record.stages[-1].stage if record.stages else "start")
        record.findings.append(Finding(code=ReasonCode.PROCESSING_ERROR,
                                       detail=f"{type(exc).__name__}: {exc}"[:300]))
        crashed = True
    # A quality finding rejects only where the reading was not confirmed (registry, digits).
    weighed = weigh_quality(record.quality, record.reading, record.findings, crashed=crashed,
                            confirmed=confirmed(record.detected_type, record.extracted,
                                                record.registry_match, context.settings),
                            number_found=number_found(record.extracted, record.registry_match,
                                                      context.settings))
    findings = ordered(dedupe(weighed.findings))
    status, resubmit = decide(findings)
    if status is VerdictStatus.APPROVED and not approvable(
            record.detected_type, record.extracted, record.registry_match, context.settings):
        findings.append(Finding(code=ReasonCode.LOW_CONFIDENCE,
                                detail="fields or registry match below the approval bar"))
        status, resubmit = decide(findings)
    verdict = DocumentVerdict(
        submission_id=manifest.submission_id, document_id=entry.document_id, file=entry.file,
        sha256=record.sha256, declared_type=entry.declared_type,
        detected_type=record.detected_type, verdict=status, resubmit=resubmit,
        reasons=[Reason.from_finding(f) for f in findings] + weighed.notes,
        extracted=record.extracted, registry_match=record.registry_match, stages=record.stages,
        checked_at=datetime.now(UTC), engine_version=__version__)
    log.info("verdict: submission=%s document=%s verdict=%s codes=%s",
             manifest.submission_id, entry.document_id, status,
             ",".join(r.code for r in verdict.reasons) or "-")
    return verdict


def _run_stages(manifest: Manifest, entry: DocumentEntry, data: bytes | None,
                context: VerifyContext, record: _Record, unread_size: int | None) -> None:
    settings = context.settings
    with record.stage("intake") as found:
        intake = check_intake(entry, data, settings, unread_size=unread_size)
        found(intake.findings)
        record.sha256 = intake.sha256
        if intake.sha256 and context.duplicates is not None:
            # Recorded before the look-up, in one transaction: of two workers verifying
            # the same bytes at once, the second to claim sees the first.
            claim = context.duplicates.claim(Upload(
                submission_id=manifest.submission_id, document_id=entry.document_id,
                file=entry.file, sha256=intake.sha256,
                applicant_key=applicant_key(manifest.applicant),
                submitted_at=manifest.submitted_at))
            earlier = claim.earlier_submissions
            if intake.accepted and earlier:
                found([Finding(code=ReasonCode.DUPLICATE_FILE,
                               detail=f"same content uploaded earlier by another applicant in "
                                      f"submission(s) {', '.join(earlier[:3])}")])
    if record.stopped or data is None or intake.file_format is None:
        return
    with record.stage("pages") as found:
        pages = load_pages(data, intake.file_format, settings)
    if not pages.has_text_layer:
        # Upright and flat first, so the gate judges what OCR will read.
        with record.stage("preprocess"):
            prepared = prepare_pages(pages.pages, settings)
            pages = PageSet(pages=prepared.pages, has_text_layer=False)
        with record.stage("quality", kind="quality") as found:
            quality = check_quality(pages.pages, settings, prepared.preparations)
            found(quality.findings)
        if quality.pages and all(is_blank(q, settings) for q in quality.pages):
            return  # no print anywhere: nothing to read
    try:
        with record.stage("ocr" if not pages.has_text_layer else "text_layer"):
            text = (text_layer_document(pages.text_lines) if pages.has_text_layer
                    else read_document_text(pages.pages, context.ocr, settings))
    except OcrFailed as exc:
        if not record.quality:
            raise  # a clean page OCR could not read: an internal failure
        # Tesseract gives up on a page the capture's defect has ruined (a page blurred
        # past reading ends in "No text returned"): that defect is the verdict.
        log.warning("OCR failed on a defective capture: submission=%s document=%s: %s",
                    manifest.submission_id, entry.document_id, exc)
        return
    with record.stage("fields", kind="reading") as found:
        fields = read_fields(text, entry.declared_type, settings)
        found(fields.findings)
        record.detected_type, record.extracted = fields.detected_type, fields.extracted
    if fields.detected_type is None or record.stopped:
        return
    with record.stage("applicant", kind="reading") as found:
        found(check_applicant(fields.detected_type, fields.extracted, manifest.applicant,
                              entry.declared, settings))
    with record.stage("registry", kind="reading") as found:
        match = match_registry(fields.detected_type, fields.extracted, manifest.applicant,
                               context.registry, settings)
        found(hold_for_registry_lag(match.findings, manifest.submitted_at, settings))
        record.registry_match = match.registry_match


def approvable(detected_type: DocType | None, extracted: ExtractedFields,
               registry_match: RegistryMatch | None, settings: Settings, *,
               min_confidence: float | None = None) -> bool:
    """An approval needs a type, a confidently read number and an exact registry record.

    Names need no separate bar: an approval already requires them to agree with both
    the applicant and the registry record, which a misread name would not. The re-check
    (sverka/recheck.py) applies the same bar when it rebuilds a verdict.
    ``min_confidence``: another bar for the number than ``approve_min_confidence``.
    """
    if detected_type is None or not extracted.number or registry_match is None:
        return False
    if registry_match.score < 1.0 - 1e-9:
        return False
    bar = settings.approve_min_confidence if min_confidence is None else min_confidence
    return min(_key_confidences(extracted).values()) >= bar


def _key_confidences(extracted: ExtractedFields) -> dict[str, float]:
    """Confidence of each key field read (series, number)."""
    return {k: extracted.field_confidence.get(k, extracted.confidence)
            for k in ("series", "number") if getattr(extracted, k)}


def confirmed(detected_type: DocType | None, extracted: ExtractedFields,
              registry_match: RegistryMatch | None, settings: Settings) -> bool:
    """The reading is shown right: every decisive field (number, series, names, dates)
    agrees exactly with a registry record, read at least legibly. Then the capture did
    not spoil it, whatever its defects: quality findings become notes. Approval still
    needs its own, higher, confidence bar (``approvable``); below it the document goes
    to a person (LOW_CONFIDENCE), not back to the applicant for a new scan."""
    return approvable(detected_type, extracted, registry_match, settings,
                      min_confidence=settings.legible_min_confidence)


def number_found(extracted: ExtractedFields, registry_match: RegistryMatch | None,
                 settings: Settings) -> bool:
    """The series and number were read legibly and name a register record exactly: the
    capture was good enough to read, whatever else disagrees."""
    if registry_match is None or not extracted.number:
        return False
    return all(registry_match.fields.get(k) == 1.0 and confidence >= settings.legible_min_confidence
               for k, confidence in _key_confidences(extracted).items())


# ------------------------------------------------------------------------- submissions


class ManifestInvalid(Exception):
    """The submission's manifest.json is missing, not JSON, or misses required fields."""


def load_manifest(store: ObjectStore, submission_prefix: str,
                  settings: Settings = DEFAULT_SETTINGS) -> Manifest:
    try:
        # The size is asked first: a manifest over the limit is never read into memory.
        manifest_object = read_manifest_limited(store, submission_prefix,
                                                settings.max_manifest_bytes)
    except ObjectNotFound as exc:
        raise ManifestInvalid("manifest.json is missing") from exc
    raw = manifest_object.data
    if raw is None:
        raise ManifestInvalid(f"manifest.json is {manifest_object.size} bytes, "
                              f"limit {settings.max_manifest_bytes}")
    try:
        manifest = Manifest.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser's stack.
        raise ManifestInvalid(f"manifest.json is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise ManifestInvalid(f"manifest.json misses or has invalid fields: {problems}") from exc
    problem = manifest_problem(manifest, settings)
    if problem:
        raise ManifestInvalid(f"manifest.json cannot be processed: {problem}")
    return manifest


def verify_submission(store: ObjectStore, submission_prefix: str,
                      context: VerifyContext) -> SubmissionResult:
    """One submission folder (manifest + files) -> every document's verdict and a summary."""
    try:
        manifest = load_manifest(store, submission_prefix, context.settings)
    except ManifestInvalid as exc:
        log.error("submission %s: %s", submission_prefix, exc)
        return manifest_failure(submission_prefix.rstrip("/").rsplit("/", 1)[-1], str(exc))
    verdicts: list[DocumentVerdict] = []
    seen_files: set[str] = set()
    for entry in manifest.documents:
        if upload_key(entry.file) in seen_files:
            verdicts.append(_repeated_file(manifest, entry))
            continue
        seen_files.add(upload_key(entry.file))
        upload = None if unsafe_file_name(entry.file) else _read_upload(
            store, submission_prefix, entry.file, context.settings)
        if upload is not None and upload.too_large:
            verdicts.append(verify_document(manifest, entry, None, context,
                                            unread_size=upload.size))
        else:
            verdicts.append(verify_document(manifest, entry, upload.data if upload else None,
                                            context))
    verdicts = check_submission_consistency(manifest, verdicts, context.settings)
    return SubmissionResult(summary=summarise(manifest.submission_id, verdicts),
                            documents=verdicts, applicant_key=applicant_key(manifest.applicant))


def check_submission_consistency(manifest: Manifest, verdicts: list[DocumentVerdict],
                                 settings: Settings) -> list[DocumentVerdict]:
    """The consistency stage: one person, dates in order (validators/consistency.py).

    Runs once all documents are read; its findings join the verdicts of the documents
    they concern, which are decided again. Never raises: a failure is PROCESSING_ERROR.
    """
    read = [v for v in verdicts if v.detected_type is not None]
    if not read:
        return verdicts
    started = time.perf_counter()
    try:
        found = check_consistency(manifest.applicant, [
            ReadDocument(v.document_id, v.detected_type, v.extracted)
            for v in read if v.detected_type is not None], settings)
        outcome = "ok"
    except Exception as exc:  # as in verify_document: a failure is never an approval
        log.exception("consistency check failed: submission=%s", manifest.submission_id)
        error = Finding(code=ReasonCode.PROCESSING_ERROR,
                        detail=f"consistency: {type(exc).__name__}: {exc}"[:300])
        found, outcome = {v.document_id: [error] for v in read}, "error"
    seconds = round(time.perf_counter() - started, 4)
    return [_with_consistency(v, found.get(v.document_id, []), outcome, seconds)
            if v.detected_type is not None else v for v in verdicts]


def _with_consistency(verdict: DocumentVerdict, found: list[Finding], outcome: str,
                      seconds: float) -> DocumentVerdict:
    stage = StageRecord(stage="consistency", outcome=outcome, codes=[f.code for f in found],
                        seconds=seconds)
    if not found:
        return verdict.model_copy(update={"stages": [*verdict.stages, stage]})
    earlier, notes = split_notes(verdict.reasons)  # notes stay notes
    findings = ordered(dedupe(earlier + found))
    status, resubmit = decide(findings)
    log.info("verdict after consistency: submission=%s document=%s verdict=%s codes=%s",
             verdict.submission_id, verdict.document_id, status,
             ",".join(f.code for f in findings))
    return verdict.model_copy(update={
        "verdict": status, "resubmit": resubmit, "stages": [*verdict.stages, stage],
        "reasons": [Reason.from_finding(f) for f in findings] + notes})


def _read_upload(store: ObjectStore, submission_prefix: str, name: str,
                 settings: Settings) -> Limited | None:
    """The named upload (left unread when over the size limit), or None when the
    submission holds no such plain file."""
    try:
        return read_upload(store, submission_prefix, name, settings.max_file_bytes)
    except InvalidObjectKey:  # e.g. a symlink in a local inbox pointing outside it
        return None


def _repeated_file(manifest: Manifest, entry: DocumentEntry) -> DocumentVerdict:
    finding = Finding(code=ReasonCode.FILE_NAME_INVALID, field="file",
                      detail="the manifest names this file for another document already")
    status, resubmit = decide([finding])
    return DocumentVerdict(
        submission_id=manifest.submission_id, document_id=entry.document_id, file=entry.file,
        declared_type=entry.declared_type, verdict=status, resubmit=resubmit,
        reasons=[Reason.from_finding(finding)], checked_at=datetime.now(UTC),
        engine_version=__version__)


def summarise(submission_id: str, verdicts: list[DocumentVerdict],
              findings: list[Finding] | None = None) -> SubmissionVerdict:
    documents = [DocumentSummary(document_id=v.document_id, file=v.file, verdict=v.verdict,
                                 codes=v.codes) for v in verdicts]
    findings = findings or []
    return SubmissionVerdict(
        submission_id=submission_id, verdict=submission_status(documents, findings),
        reasons=[Reason.from_finding(f) for f in findings], documents=documents,
        checked_at=datetime.now(UTC), engine_version=__version__)


def manifest_failure(submission_id: str, detail: str) -> SubmissionResult:
    finding = Finding(code=ReasonCode.MANIFEST_INVALID, detail=detail[:300])
    return SubmissionResult(summary=summarise(submission_id, [], [finding]), documents=[])
