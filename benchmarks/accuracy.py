"""Accuracy on four sets: the held-out synthetic one, the project's own, real specimens
and real photos of state passports' specimen pages.

    .venv/bin/python -m benchmarks.accuracy [--out DIR] [--only SET] [--markdown FILE]

Generates each set, runs ``sverka verify`` on it (as a user would, in a subprocess) with
the check date its expected.json names, and prints one table per set: overall, per
document type and per capture kind, then the documents that went wrong. Only ids,
types, captures and codes are printed: never numbers, SNILS or birth dates.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fixtures.evaluate import evaluate

QUALITY_CODES = {"IMAGE_GLARE", "IMAGE_BLURRED", "RESOLUTION_TOO_LOW", "DOCUMENT_CROPPED",
                 "IMAGE_TOO_DARK", "UNREADABLE"}
MRZ_SINCE = "2011-07-01"  # internal passports issued since then carry a zone
SVERKA = Path(sys.executable).with_name("sverka")


@dataclass
class Row:
    label: str
    documents: int = 0
    right: int = 0
    false_accepts: int = 0
    quality_rejects: int = 0
    numbers: tuple[int, int] = (0, 0)
    names: tuple[int, int] = (0, 0)
    mrz: tuple[int, int] = (0, 0)


def _carries_mrz(doc: dict[str, Any]) -> bool:
    if doc["type"] == "passport_intl":
        return True
    return doc["type"] == "passport_rf" and doc["truth"].get("issue_date", "") >= MRZ_SINCE


def mrz_readings(inbox: Path, docs: list[dict[str, Any]]) -> dict[tuple[str, str], bool]:
    """For each genuine passport that carries a zone: was it read with every check digit
    holding and the document's own number in it? Read here as the pipeline reads it
    (pages, preparation, OCR, the type's parser with its repairs); the verdict says only
    which source each field came from."""
    from contracts.config import DEFAULT_SETTINGS
    from contracts.models import DocType, FileFormat
    from extractors.ocr import Tesseract, read_pages
    from extractors.pages import load_pages
    from extractors.parsers import parse
    from extractors.preprocess import prepare_pages

    formats = {".pdf": FileFormat.PDF, ".jpg": FileFormat.JPEG, ".jpeg": FileFormat.JPEG,
               ".png": FileFormat.PNG}
    ocr = Tesseract.from_settings(DEFAULT_SETTINGS)
    read: dict[tuple[str, str], bool] = {}
    for doc in docs:
        if doc["case"] != "genuine" or not _carries_mrz(doc):
            continue
        path = inbox / doc["submission_id"] / doc["file"]
        pages = load_pages(path.read_bytes(), formats[path.suffix.lower()], DEFAULT_SETTINGS)
        prepared = prepare_pages(pages.pages, DEFAULT_SETTINGS).pages
        text = read_pages(prepared, ocr, DEFAULT_SETTINGS)
        mrz = parse(DocType(doc["type"]), text).mrz
        number = (doc["truth"].get("series") or "") + doc["truth"]["number"]
        read[(doc["submission_id"], doc["document_id"])] = bool(
            mrz and mrz.valid and (mrz.series or "") + (mrz.number or "") == number)
    return read


def _score(label: str, docs: list[dict[str, Any]], verdicts: Path, tmp: Path,
           truth: dict[str, Any], mrz_read_ok: dict[tuple[str, str], bool]
           ) -> tuple[Row, list]:
    """One table row; the verdict and field figures come from ``fixtures.evaluate``."""
    subset = tmp / f"expected-{abs(hash(label))}.json"
    subset.write_text(json.dumps({**truth, "documents": docs}, ensure_ascii=False), "utf-8")
    ev = evaluate(verdicts, subset)
    row = Row(label, ev.documents, ev.right_verdicts, ev.wrong_approvals,
              numbers=(ev.numbers_exact, ev.numbers_checked),
              names=(ev.names_exact, ev.names_checked))
    mrz_read = mrz_all = 0
    for doc in docs:
        path = verdicts / doc["submission_id"] / f"{doc['document_id']}.json"
        got = json.loads(path.read_text("utf-8")) if path.exists() else {}
        codes = {r["code"] for r in got.get("reasons", [])}
        if doc["verdict"] == "approved" and got.get("verdict") == "rejected" \
                and codes & QUALITY_CODES:
            row.quality_rejects += 1
        key = (doc["submission_id"], doc["document_id"])
        if key in mrz_read_ok:
            mrz_all += 1
            mrz_read += mrz_read_ok[key]
    row.mrz = (mrz_read, mrz_all)
    return row, ev.misses


def _fmt(pair: tuple[int, int]) -> str:
    part, whole = pair
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


COLUMNS = ("", "docs", "right verdict", "false accepts", "quality rejects",
           "series+number exact", "names exact", "MRZ valid (genuine)")


def markdown(t: Table, rows: list[list[str]]) -> str:
    lines = [f"### {t.title}", "", "| " + " | ".join(COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if t.caption:
        lines += ["", str(t.caption)]
    return "\n".join(lines) + "\n"


def table(name: str, inbox: Path, verdicts: Path, tmp: Path
          ) -> tuple[Table, list, list[list[str]]]:
    truth = json.loads((inbox / "expected.json").read_text("utf-8"))
    docs = truth["documents"]
    groups: list[tuple[str, list]] = [("all", docs)]
    for key, title in (("type", "type"), ("capture", "capture")):
        for value in sorted({str(d[key]) for d in docs}):
            groups.append((f"{title}: {value}", [d for d in docs if str(d[key]) == value]))
    t = Table(title=f"{name} (check date {truth['check_date']})")
    for col in COLUMNS:
        t.add_column(col, justify="left" if not col else "right")
    misses: list = []
    rows: list[list[str]] = []
    mrz_read_ok = mrz_readings(inbox, docs)
    for label, group in groups:
        row, group_misses = _score(label, group, verdicts, tmp, truth, mrz_read_ok)
        if label == "all":
            misses = group_misses
        rows.append([label, str(row.documents), _fmt((row.right, row.documents)),
                     str(row.false_accepts), str(row.quality_rejects), _fmt(row.numbers),
                     _fmt(row.names), _fmt(row.mrz)])
        t.add_row(*rows[-1], end_section=label == "all")
    unread = [f"{sub}/{doc}" for (sub, doc), ok in sorted(mrz_read_ok.items()) if not ok]
    if unread:
        t.caption = "MRZ not read with valid check digits: " + ", ".join(unread)
    return t, misses, rows


def verify(inbox: Path, registry: Path, out: Path, check_date: str) -> float:
    start = time.monotonic()
    subprocess.run([str(SVERKA), "verify", str(inbox), "--registry", str(registry), "--out",
                    str(out), "--workers", "2", "--today", check_date],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def _independent(d: Path) -> tuple[Path, Path]:
    from fixtures.independent.generate import generate
    gs = generate(d, seed=1)
    return gs.inbox, gs.registry


def _own(d: Path) -> tuple[Path, Path]:
    from fixtures.generate import generate
    gs = generate(d, seed=7)
    return gs.inbox, gs.registry


def _specimens(d: Path) -> tuple[Path, Path]:
    from fixtures.specimens import write_inbox
    return write_inbox(d, date(2012, 4, 10))


def _photos(d: Path) -> tuple[Path, Path]:
    from fixtures.specimens import PHOTOS, write_inbox
    return write_inbox(d, date(2005, 1, 1), PHOTOS)


SETS: tuple[tuple[str, str, Callable[[Path], tuple[Path, Path]]], ...] = (
    ("independent", "held-out synthetic set (fixtures/independent, seed 1)", _independent),
    ("own", "the project's own synthetic set (fixtures, seed 7)", _own),
    ("specimens", "real ICAO specimens (fixtures/specimens/icao)", _specimens),
    ("photos", "real state passports' specimen photos (fixtures/specimens/passporteye)",
     _photos),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy")
    parser.add_argument("--out", type=Path, help="keep the sets and verdicts here")
    parser.add_argument("--only", choices=[s[0] for s in SETS], action="append")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    args = parser.parse_args(argv)
    console = Console(width=150)  # the table is wider than a default pipe's 80 columns
    report: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch)
        for key, title, make in SETS:
            if args.only and key not in args.only:
                continue
            base = root / key
            if base.exists():
                parser.error(f"{base} exists; choose an empty --out")
            t0 = time.monotonic()
            inbox, registry = make(base / "set")
            check_date = json.loads((inbox / "expected.json").read_text("utf-8"))["check_date"]
            console.print(f"[dim]{key}: generated in {time.monotonic() - t0:.0f} s, "
                          f"verifying…[/dim]")
            seconds = verify(inbox, registry, base / "verdicts", check_date)
            console.print(f"[dim]{key}: verified in {seconds:.0f} s[/dim]")
            t, misses, rows = table(title, inbox, base / "verdicts", Path(scratch))
            console.print(t)
            report.append(markdown(t, rows))
            for m in misses:
                console.print(escape(
                    f"  MISS {m.submission_id}/{m.document_id} [{m.case}, {m.capture}] "
                    f"expected {m.expected} {m.missing_codes or ''} got {m.got} {m.codes}"),
                    soft_wrap=True)
    if args.markdown:
        args.markdown.write_text("\n".join(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
