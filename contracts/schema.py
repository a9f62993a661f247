"""JSON Schemas of the published verdicts, generated from the models.

The committed files in ``contracts/schemas/`` are what the portal validates against;
``python -m contracts.schema`` rewrites them, and a test fails when they drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path

from contracts.models import DocumentVerdict, SubmissionVerdict

SCHEMA_DIR = Path(__file__).with_name("schemas")
SCHEMAS = {"verdict.schema.json": DocumentVerdict, "submission.schema.json": SubmissionVerdict}


def render(model: type) -> str:
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text("utf-8"))


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, model in SCHEMAS.items():
        (SCHEMA_DIR / name).write_text(render(model), "utf-8")
        print(f"wrote {SCHEMA_DIR / name}")


if __name__ == "__main__":
    main()
