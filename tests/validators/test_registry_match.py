"""Registry match: exact, near (one substitution), decoys, ambiguity, outages, registry lag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from contracts.config import Settings
from contracts.errors import DatabaseUnavailable, RegistryUnavailable
from contracts.models import Applicant, DocType, ExtractedFields, Finding, VerdictStatus
from contracts.reasons import ReasonCode
from contracts.registry_csv import CSV_HEADER
from storage.database import make_engine, migrate
from storage.registry import RegistryStore
from validators.registry_match import check_moment, hold_for_registry_lag, match_registry
from validators.verdict import decide

R = ReasonCode
HEADER = ",".join(CSV_HEADER)
ROWS = [
    # The applicant's diploma.
    "R-1,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,diploma,107724,0012345,"
    "2019-06-30,,РНИМУ,Лечебное дело,active",
    # Another person's diploma from the same blank batch, one digit further on.
    "R-2,,Петров,Пётр,Ильич,1985-02-03,diploma,107724,0012346,2019-06-30,,РНИМУ,,active",
    # A namesake: same full name, another birth date.
    "R-3,,Иванова,Мария,Сергеевна,1991-01-01,diploma,107724,5550000,2019-06-30,,РНИМУ,,active",
    # An ICAO passport with letters in its number.
    "R-4,,Иванова,Мария,,1990-04-12,passport_intl,,C01X00T47,2020-01-10,2030-01-09,,,active",
]
SETTINGS = Settings(today=date(2026, 11, 21), registry_retry_wait_seconds=0)
APPLICANT = Applicant(last_name="Иванова", first_name="Мария", middle_name="Сергеевна",
                      birth_date=date(1990, 4, 12), snils="112-233-445 95")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> RegistryStore:
    url = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'sverka.sqlite'}"
    migrate(url)
    store = RegistryStore(make_engine(url))
    store.load_csv(("\n".join([HEADER, *ROWS]) + "\n").encode(), source="test")
    return store


def _diploma(number: str, series: str = "107724", **names: str) -> ExtractedFields:
    values = {"last_name": "ИВАНОВА", "first_name": "МАРИЯ", "middle_name": "СЕРГЕЕВНА"}
    values.update(names)
    return ExtractedFields(series=series, number=number, issue_date=date(2019, 6, 30),
                           confidence=0.95, **values)


def _match(registry, fields, doc_type=DocType.DIPLOMA, applicant=APPLICANT,
           settings=SETTINGS):
    return match_registry(doc_type, fields, applicant, registry, settings)


def _codes(result) -> list[ReasonCode]:
    return [f.code for f in result.findings]


def test_exact_match_has_per_field_scores(registry: RegistryStore) -> None:
    result = _match(registry, _diploma("001 2345"))
    assert result.findings == []
    match = result.registry_match
    assert match.record_id == "R-1" and match.score == 1.0
    assert match.fields == {"number": 1.0, "series": 1.0, "name": 1.0, "last_name": 1.0,
                            "first_name": 1.0, "middle_name": 1.0, "birth_date": 1.0,
                            "issue_date": 1.0}


def test_exact_match_with_another_birth_date_is_not_certain(registry: RegistryStore) -> None:
    applicant = APPLICANT.model_copy(update={"birth_date": date(1990, 4, 13)})
    match = _match(registry, _diploma("0012345"), applicant=applicant).registry_match
    assert match.fields["birth_date"] == 0.0 and match.score == 0.0


def test_name_parts_are_scored_after_normalisation(registry: RegistryStore) -> None:
    # Latin look-alikes and Ё are folded before comparing; the patronymic is off by one.
    fields = _diploma("0012345", last_name="ИBAHOBA", middle_name="СЕРГЕЕВИА")
    result = _match(registry, fields)
    scores = result.registry_match.fields
    assert scores["last_name"] == 1.0 and scores["first_name"] == 1.0
    assert 0.8 < scores["middle_name"] < 1.0 and scores["name"] < 1.0
    assert result.registry_match.score == scores["name"]


def test_a_patronymic_the_reading_missed_is_not_another_person(registry: RegistryStore) -> None:
    result = _match(registry, _diploma("0012345", middle_name=None))
    assert result.findings == [] and result.registry_match.fields["name"] == 1.0
    # ... but a different surname on the same number still is.
    other = _match(registry, _diploma("0012345", last_name="ПЕТРОВА", middle_name=None))
    assert _codes(other) == [R.REGISTRY_NAME_MISMATCH]


def test_one_misread_digit_goes_to_review_never_approved(registry: RegistryStore) -> None:
    result = _match(registry, _diploma("0012385"))
    assert _codes(result) == [R.LOW_CONFIDENCE]
    assert result.findings[0].field == "number"
    match = result.registry_match
    assert match.record_id == "R-1" and match.fields["number"] == pytest.approx(6 / 7, abs=1e-3)
    assert match.score < 1.0
    assert decide(result.findings)[0] is VerdictStatus.REVIEW


def test_decoy_one_digit_away_belonging_to_someone_else(registry: RegistryStore) -> None:
    # 0012946 is one digit from Petrov's 0012346 and two from the applicant's own record.
    result = _match(registry, _diploma("0012946"))
    assert _codes(result) == [R.NOT_IN_REGISTRY] and result.registry_match is None
    assert "other people" in result.findings[0].detail
    assert decide(result.findings)[0] is VerdictStatus.REJECTED


def test_namesake_with_another_birth_date_is_not_a_match(registry: RegistryStore) -> None:
    result = _match(registry, _diploma("5550001"))
    assert _codes(result) == [R.NOT_IN_REGISTRY] and result.registry_match is None


def test_several_close_candidates_are_ambiguous(registry: RegistryStore) -> None:
    # 0012347 is one digit from both 0012345 (hers) and 0012346 (Petrov's).
    result = _match(registry, _diploma("0012347"))
    assert _codes(result) == [R.AMBIGUOUS_MATCH] and result.registry_match is None
    assert decide(result.findings)[0] is VerdictStatus.REVIEW


def test_misread_onto_another_persons_record_is_reviewed_not_rejected(
        registry: RegistryStore) -> None:
    # Her diploma is 0012345; a misread last digit lands exactly on Petrov's 0012346.
    result = _match(registry, _diploma("0012346"))
    assert _codes(result) == [R.AMBIGUOUS_MATCH]
    assert result.registry_match.record_id == "R-2" and result.registry_match.fields["name"] < 0.9
    assert decide(result.findings)[0] is VerdictStatus.REVIEW


def test_another_persons_record_without_a_near_one_of_hers_is_rejected(
        registry: RegistryStore) -> None:
    fields = _diploma("0012346", last_name="СИДОРОВА", first_name="АННА", middle_name="")
    applicant = Applicant(last_name="Сидорова", first_name="Анна", birth_date=date(1980, 1, 1))
    result = _match(registry, fields, applicant=applicant)
    assert _codes(result) == [R.REGISTRY_NAME_MISMATCH]
    assert decide(result.findings)[0] is VerdictStatus.REJECTED


def test_unknown_birth_date_still_reviews_on_the_name(registry: RegistryStore) -> None:
    applicant = APPLICANT.model_copy(update={"birth_date": None})
    result = _match(registry, _diploma("0012385"), applicant=applicant)
    assert _codes(result) == [R.LOW_CONFIDENCE]
    assert "birth date unknown" in result.findings[0].detail


def test_applicant_name_is_used_when_the_document_name_was_not_read(
        registry: RegistryStore) -> None:
    fields = ExtractedFields(series="107724", number="0012385", confidence=0.9)
    assert _codes(_match(registry, fields)) == [R.LOW_CONFIDENCE]
    other = Applicant(last_name="Сидорова", first_name="Анна", birth_date=date(1990, 4, 12))
    assert _codes(_match(registry, fields, applicant=other)) == [R.NOT_IN_REGISTRY]


@pytest.mark.parametrize(("series", "number"), [
    ("107724", "0012399"),  # two substitutions
    ("107724", "001234"),  # a digit missing: not a substitution
    ("107725", "0012345"),  # right number, other series: the series must be exact
])
def test_beyond_one_substitution_is_not_in_registry(registry: RegistryStore, series: str,
                                                    number: str) -> None:
    result = _match(registry, _diploma(number, series=series))
    assert _codes(result) == [R.NOT_IN_REGISTRY] and result.registry_match is None


def test_letters_in_icao_numbers_are_substituted_too(registry: RegistryStore) -> None:
    fields = ExtractedFields(number="C01X0OT47", last_name="IVANOVA", first_name="MARIIA",
                             birth_date=date(1990, 4, 12), confidence=0.9)
    result = _match(registry, fields, doc_type=DocType.PASSPORT_INTL)
    assert _codes(result) == [R.LOW_CONFIDENCE] and result.registry_match.record_id == "R-4"
    assert result.registry_match.fields["name"] == 1.0


def test_snils_has_no_near_path(registry: RegistryStore) -> None:
    found = _match(registry, ExtractedFields(number="112-233-445 95"), doc_type=DocType.SNILS)
    assert found.findings == [] and found.registry_match.record_id == "R-1"
    near = _match(registry, ExtractedFields(number="112-233-445 96", confidence=0.99),
                  doc_type=DocType.SNILS)
    assert _codes(near) == [R.NOT_IN_REGISTRY]


# ---------------------------------------------------------------- registry unavailable


class _Counting:
    """Counts look-ups and passes them on (or fails like a database that is down)."""

    def __init__(self, inner: RegistryStore | None = None) -> None:
        self.inner, self.calls = inner, 0

    def _call(self, name: str, *args: object) -> list:
        self.calls += 1
        if self.inner is None:
            exc = RegistryUnavailable("database unavailable: connection refused")
            exc.__cause__ = DatabaseUnavailable("connection refused")
            raise exc
        return getattr(self.inner, name)(*args)

    def find(self, *args: object) -> list:
        return self._call("find", *args)

    def find_near(self, *args: object) -> list:
        return self._call("find_near", *args)

    def find_by_snils(self, *args: object) -> list:
        return self._call("find_by_snils", *args)


def test_database_down_is_retried_then_review() -> None:
    registry = _Counting()
    result = _match(registry, _diploma("0012345"))
    assert _codes(result) == [R.REGISTRY_UNAVAILABLE] and result.registry_match is None
    assert registry.calls == SETTINGS.registry_retry_attempts
    assert decide(result.findings)[0] is VerdictStatus.REVIEW


def test_database_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    store = RegistryStore(make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite'}"))
    counting = _Counting(store)
    assert _codes(_match(counting, _diploma("0012345"))) == [R.REGISTRY_UNAVAILABLE]
    assert counting.calls == SETTINGS.registry_retry_attempts


def test_missing_snapshot_is_unavailable_without_retries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    migrate(url)
    counting = _Counting(RegistryStore(make_engine(url)))
    result = _match(counting, _diploma("0012345"))
    assert _codes(result) == [R.REGISTRY_UNAVAILABLE] and counting.calls == 1
    assert "no registry snapshot" in result.findings[0].detail


# ---------------------------------------------------------------- registry lag


SUBMITTED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
MISSING = Finding(code=R.NOT_IN_REGISTRY, field="number")


@pytest.mark.parametrize(("hours_later", "held"), [(0.5, True), (23.9, True), (24, False),
                                                   (72, False)])
def test_not_in_registry_soon_after_submission_is_held(hours_later: float, held: bool) -> None:
    now = SUBMITTED + timedelta(hours=hours_later)
    [finding] = hold_for_registry_lag([MISSING], SUBMITTED, SETTINGS, now)
    assert finding.code is (R.REGISTRY_PENDING if held else R.NOT_IN_REGISTRY)
    if held:
        assert decide([finding])[0] is VerdictStatus.REVIEW and "lag window" in finding.detail


def test_lag_window_is_a_setting() -> None:
    settings = SETTINGS.model_copy(update={"registry_lag_hours": 72.0})
    now = SUBMITTED + timedelta(hours=48)
    assert hold_for_registry_lag([MISSING], SUBMITTED, settings, now)[0].code is \
        R.REGISTRY_PENDING


def test_only_a_missing_number_is_held() -> None:
    other = [Finding(code=R.NOT_IN_REGISTRY, field="issue_date"),
             Finding(code=R.DOCUMENT_REVOKED)]
    now = SUBMITTED + timedelta(hours=1)
    assert hold_for_registry_lag(other, SUBMITTED, SETTINGS, now) == other
    assert hold_for_registry_lag([MISSING], None, SETTINGS, now) == [MISSING]


def test_naive_submission_time_is_utc() -> None:
    naive = SUBMITTED.replace(tzinfo=None)
    now = SUBMITTED + timedelta(hours=1)
    assert hold_for_registry_lag([MISSING], naive, SETTINGS, now)[0].code is R.REGISTRY_PENDING


def test_fixed_check_date_is_judged_at_its_end() -> None:
    assert check_moment(SETTINGS) == datetime(2026, 11, 21, 23, 59, 59, 999999, tzinfo=UTC)
    before = datetime.now(UTC)
    assert before <= check_moment(Settings()) <= datetime.now(UTC)


# ---------------------------------------------------------------- a misread is not a rejection


def test_no_record_for_a_number_read_with_low_confidence_is_review(registry) -> None:
    """The same reading is NOT_IN_REGISTRY when confident and LOW_CONFIDENCE when not."""
    confident = _diploma("7777777")
    shaky = confident.model_copy(update={"field_confidence": {"number": 0.6, "series": 0.95}})
    assert _codes(_match(registry, confident)) == [R.NOT_IN_REGISTRY]
    doubted = _match(registry, shaky)
    assert _codes(doubted) == [R.LOW_CONFIDENCE]
    assert decide(doubted.findings) == (VerdictStatus.REVIEW, False)
    assert "would be NOT_IN_REGISTRY" in (doubted.findings[0].detail or "")


def test_someone_elses_record_under_a_shaky_name_is_review(registry) -> None:
    other = _diploma("5550000", last_name="СИДОРОВА")  # R-3 names Ivanova
    assert _codes(_match(registry, other)) == [R.REGISTRY_NAME_MISMATCH]
    shaky = other.model_copy(update={"field_confidence": {"last_name": 0.5}})
    assert _codes(_match(registry, shaky)) == [R.LOW_CONFIDENCE]
