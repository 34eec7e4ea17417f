"""Reading a manifest: a CSV with a header row or a JSON array, one video request per row, every row
validated with the same `VideoRequest` model as the API and the CLI.

Rows are numbered from 1 in manifest order: the first request (the line after a CSV's header, or the
array's first element) is row 1. A row that fails validation is kept with the name of each field
that is wrong and why; the manifest as a whole fails only when it cannot be read at all."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from pydantic import ValidationError

from faceless.errors import InvalidManifestError
from faceless.batch.models import FieldProblem
from faceless.media.scripts import undrawable_captions
from faceless.models import VideoRequest

MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_ROWS = 1000  # each row's outcome travels in the Distributed Map's output (256 KB): split bigger batches

# CSV headers a person is likely to write -> the request field (the CLI's flag names)
ALIASES = {"duration": "duration_seconds", "level": "optimization_level", "art-style": "art_style",
           "image-provider": "image_provider", "caption-style": "caption_style"}
FIELDS = set(VideoRequest.model_fields)


@dataclass
class ValidRow:
    row: int
    request: VideoRequest


@dataclass
class InvalidRow:
    row: int
    problems: list[FieldProblem]


@dataclass
class ParsedManifest:
    valid: list[ValidRow] = field(default_factory=list)
    invalid: list[InvalidRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.valid) + len(self.invalid)


def problems_from(error: ValidationError) -> list[FieldProblem]:
    """One (field, message) per pydantic error, in words a person can act on."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "topic/script"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "enum":
            message = f"must be one of {item['ctx']['expected']}"
        elif item["type"] == "extra_forbidden":
            message = f"is not a request field (known: {', '.join(sorted(FIELDS))})"
        problems.append(FieldProblem(field=where, message=message))
    return problems


def validate_row(row: int, fields: dict) -> ValidRow | InvalidRow:
    try:
        request = VideoRequest.model_validate(fields)
    except ValidationError as error:
        problems = problems_from(error)
        # pydantic skips the topic-or-script rule when a field is already wrong: name it anyway,
        # so one pass over the report shows everything to fix in the row
        given = [name for name in ("topic", "script") if str(fields.get(name) or "").strip()]
        if len(given) != 1 and not any(p.field in ("topic", "script", "topic/script") for p in problems):
            problems.append(FieldProblem(field="topic/script", message="give exactly one of 'topic' or 'script'"))
        return InvalidRow(row=row, problems=problems)
    if problem := undrawable_captions(request.script, request.language):  # as the API and the CLI refuse it
        field, message = problem
        return InvalidRow(row=row, problems=[FieldProblem(field=field, message=message)])
    return ValidRow(row=row, request=request)


def _text(data: bytes) -> str:
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidManifestError(f"the manifest is {len(data)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidManifestError(f"the manifest is not UTF-8 text (byte {error.start})") from None


def _csv_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip() for name in (reader.fieldnames or [])]
    if not any(header):
        raise InvalidManifestError("the CSV manifest has no header row (e.g. topic,duration_seconds,format)")
    names = [ALIASES.get(name.lower(), name.lower()) for name in header]
    unknown = [raw for raw, name in zip(header, names) if name not in FIELDS]
    if unknown:
        raise InvalidManifestError(
            f"unknown CSV column(s) {', '.join(repr(u) for u in unknown)}; the columns are request fields: "
            + ", ".join(sorted(FIELDS))
        )
    if len(set(names)) != len(names):
        raise InvalidManifestError(f"the CSV header names a column twice: {', '.join(header)}")
    reader.fieldnames = names
    rows = []
    try:
        for record in reader:
            extra = record.pop(None, None)  # type: ignore[call-overload]
            fields = {k: v.strip() for k, v in record.items() if v is not None and v.strip() != ""}
            if extra and any(cell.strip() for cell in extra):
                fields["__extra__"] = extra
            rows.append(fields)
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        raise InvalidManifestError(f"the CSV manifest cannot be read at line {reader.line_num}: {error}") from None
    return rows


def _json_rows(text: str) -> list:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidManifestError(f"the JSON manifest is not valid JSON: {error}") from None
    if not isinstance(value, list):
        raise InvalidManifestError("the JSON manifest must be an array of video requests")
    return value


def parse_manifest(data: bytes, kind: str) -> ParsedManifest:
    """kind: 'csv' or 'json'."""
    text = _text(data)
    rows = _csv_rows(text) if kind == "csv" else _json_rows(text)
    if not rows:
        raise InvalidManifestError("the manifest has no rows")
    if len(rows) > MAX_ROWS:
        raise InvalidManifestError(f"the manifest has more than {MAX_ROWS} rows; split it into several files")
    parsed = ParsedManifest()
    for number, fields in enumerate(rows, start=1):
        if not isinstance(fields, dict):
            parsed.invalid.append(InvalidRow(number, [FieldProblem(field="row", message="must be a JSON object of request fields")]))
            continue
        if "__extra__" in fields:
            parsed.invalid.append(InvalidRow(number, [FieldProblem(field="row", message="has more cells than the header has columns")]))
            continue
        outcome = validate_row(number, fields)
        (parsed.valid if isinstance(outcome, ValidRow) else parsed.invalid).append(outcome)
    return parsed
