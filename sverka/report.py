"""The verdict table operators and the demo print."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from contracts.models import DocumentVerdict, VerdictStatus

_STYLE = {VerdictStatus.APPROVED: "green", VerdictStatus.REJECTED: "red",
          VerdictStatus.REVIEW: "yellow"}
# What the applicant portal shows for each verdict (DESIGN.md §5).
PORTAL_STATUS = {VerdictStatus.APPROVED: "Одобрено", VerdictStatus.REJECTED: "Отклонено",
                 VerdictStatus.REVIEW: "На проверке"}


def verdict_table(verdicts: list[DocumentVerdict]) -> Table:
    table = Table(title=f"Verdicts ({len(verdicts)} documents)", show_lines=False)
    for column in ("submission", "document", "file", "type", "verdict", "reasons"):
        table.add_column(column, overflow="fold")
    for v in sorted(verdicts, key=lambda v: (v.submission_id, v.document_id)):
        style = _STYLE[v.verdict]
        table.add_row(v.submission_id, v.document_id, v.file,
                      str(v.detected_type or v.declared_type or "?"),
                      f"[{style}]{v.verdict} ({PORTAL_STATUS[v.verdict]})[/{style}]",
                      ", ".join(v.codes) or "-")
    counts = {s: sum(1 for v in verdicts if v.verdict is s) for s in VerdictStatus}
    table.caption = "  ".join(f"{s}: {n}" for s, n in counts.items())
    return table


def load_verdict_folder(root: Path) -> list[DocumentVerdict]:
    """Reads ``<root>/<submission_id>/<document_id>.json`` verdict files."""
    verdicts = []
    for path in sorted(root.glob("*/*.json")):
        if path.name == "submission.json":
            continue
        verdicts.append(DocumentVerdict.model_validate(json.loads(path.read_text("utf-8"))))
    return verdicts
