"""Applicant checks: declared surname changes, and low-confidence readings (a misread is
not a data rejection: validators/misread.py)."""

from __future__ import annotations

from datetime import date

from contracts.config import Settings
from contracts.models import Applicant, DeclaredFields, DocType, ExtractedFields, SurnameChange
from contracts.reasons import ReasonCode
from validators.applicant import check_applicant
from validators.misread import RESTS_ON, doubt_misreads

SETTINGS = Settings()
R = ReasonCode
APPLICANT = Applicant(last_name="Иванова", first_name="Мария", middle_name="Сергеевна",
                      birth_date=date(1990, 4, 12), snils="112-233-445 95")


def _fields(confidence: float = 0.95, **values: object) -> ExtractedFields:
    names = {"last_name": "ИВАНОВА", "first_name": "МАРИЯ", "middle_name": "СЕРГЕЕВНА"}
    return ExtractedFields(**{**names, **values}, series="107724", number="0012345",
                           confidence=confidence)


def _codes(fields: ExtractedFields, applicant: Applicant = APPLICANT,
           declared: DeclaredFields | None = None) -> list[ReasonCode]:
    return [f.code for f in check_applicant(DocType.DIPLOMA, fields, applicant, declared,
                                            SETTINGS)]


def test_maiden_name_needs_a_declared_change_with_a_reason() -> None:
    maiden = _fields(last_name="СОЛОВЬЁВА")
    assert _codes(maiden) == [R.CROSS_DOCUMENT_MISMATCH]
    declared = APPLICANT.model_copy(update={"surname_changes": [SurnameChange(
        previous_last_name="Соловьева", reason="заключение брака")]})
    assert _codes(maiden, declared) == []
    no_reason = APPLICANT.model_copy(update={"surname_changes": [SurnameChange(
        previous_last_name="Соловьёва", reason=" ")]})
    findings = check_applicant(DocType.DIPLOMA, maiden, no_reason, None, SETTINGS)
    assert [f.code for f in findings] == [R.CROSS_DOCUMENT_MISMATCH]
    assert "without a reason" in (findings[0].detail or "")
    # A declared change covers that surname only, not another person's.
    assert _codes(_fields(last_name="ПЕТРОВА", first_name="ОЛЬГА"), declared) == \
        [R.APPLICANT_NAME_MISMATCH]


def test_a_patronymic_the_reading_missed_is_compared_as_absent() -> None:
    assert _codes(_fields(middle_name=None)) == []
    assert _codes(_fields(middle_name=None, first_name="ОЛЬГА")) == [R.APPLICANT_NAME_MISMATCH]


def test_confident_disagreements_reject_and_shaky_ones_go_to_review() -> None:
    other = {"last_name": "ПЕТРОВА", "first_name": "ОЛЬГА", "middle_name": "ИВАНОВНА"}
    assert _codes(_fields(**other)) == [R.APPLICANT_NAME_MISMATCH]
    shaky = _fields(**other, field_confidence={"first_name": 0.5})
    assert _codes(shaky) == [R.LOW_CONFIDENCE]
    born = _fields(birth_date=date(1991, 4, 12))
    assert _codes(born) == [R.BIRTH_DATE_MISMATCH]
    assert _codes(born.model_copy(update={"field_confidence": {"birth_date": 0.79}})) == \
        [R.LOW_CONFIDENCE]
    typed = DeclaredFields(number="0012354")
    assert _codes(_fields(), declared=typed) == [R.DECLARED_MISMATCH]
    # No per-field score: the document's overall confidence is what the reading is worth.
    assert _codes(_fields(confidence=0.5), declared=typed) == [R.LOW_CONFIDENCE]


def test_only_readings_the_finding_rests_on_count() -> None:
    finding_codes = {code for code, _ in RESTS_ON}
    assert R.DOCUMENT_REVOKED not in finding_codes  # the registry's word, not a reading
    fields = _fields(field_confidence={"issuer": 0.1, "last_name": 0.99, "first_name": 0.99,
                                       "middle_name": 0.99})
    findings = check_applicant(DocType.DIPLOMA, fields.model_copy(update={
        "last_name": "ПЕТРОВА", "first_name": "ОЛЬГА"}), APPLICANT, None, SETTINGS)
    assert [f.code for f in doubt_misreads(findings, fields, SETTINGS)] == \
        [R.APPLICANT_NAME_MISMATCH]


def test_a_birth_year_read_from_an_mrz_a_century_off_is_the_same_date() -> None:
    # «110101» in the zone is 1911 or 2011; the applicant says 1911.
    from contracts.models import FieldSource

    applicant = APPLICANT.model_copy(update={"birth_date": date(1911, 1, 1)})
    from_mrz = _fields(birth_date=date(2011, 1, 1),
                       field_sources={"birth_date": FieldSource.MRZ})
    assert R.BIRTH_DATE_MISMATCH not in _codes(from_mrz, applicant)
    printed = _fields(birth_date=date(2011, 1, 1))  # printed in full: a real difference
    assert R.BIRTH_DATE_MISMATCH in _codes(printed, applicant)
    other_day = _fields(birth_date=date(2011, 1, 2), field_sources={"birth_date": FieldSource.MRZ})
    assert R.BIRTH_DATE_MISMATCH in _codes(other_day, applicant)
