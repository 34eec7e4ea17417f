"""Reading batch manifests and naming executions: pure functions, no AWS."""

from __future__ import annotations

import json
import re

import pytest

from faceless.batch import naming
from faceless.batch.manifest import MAX_ROWS, parse_manifest
from faceless.errors import InvalidManifestError

EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_csv_rows_are_validated_with_the_video_request_model():
    # GIVEN a CSV with a BOM, CLI-style column names, blank cells and rows good and bad
    data = ("\ufefftopic,Duration,format,music,voice\n"
            "How tides work,45,1:1,calm,\n"
            "Why cats purr,500,1:1,,\n"
            "How bees dance,,16:9,loud,\n").encode()
    # WHEN it is parsed
    parsed = parse_manifest(data, "csv")
    # THEN valid rows carry the request (blank cells take the defaults), invalid rows each field and why
    assert [row.row for row in parsed.valid] == [1]
    request = parsed.valid[0].request
    assert (request.topic, request.duration_seconds, request.format.value, request.music.value, request.voice) == (
        "How tides work", 45, "1:1", "calm", None)
    assert [(r.row, [p.field for p in r.problems]) for r in parsed.invalid] == [(2, ["duration_seconds"]), (3, ["music"])]
    assert parsed.invalid[1].problems[0].message.startswith("must be one of 'off', 'on'")
    assert parsed.rows == 3


def test_a_row_missing_both_topic_and_script_says_so_even_with_other_errors():
    parsed = parse_manifest(b"topic,script,format\n,,4:3\nA topic,Also a script that is long enough to count,1:1\n", "csv")
    assert [{p.field for p in r.problems} for r in parsed.invalid] == [{"format", "topic/script"}, {"topic/script"}]


def test_a_row_whose_captions_would_be_boxes_is_a_bad_row_the_others_still_run():
    # GIVEN a manifest with a good row, a Georgian script and an Armenian topic (no caption face draws them)
    data = json.dumps([
        {"topic": "How tides work"},
        {"script": "ფუტკრები ცეკვავენ, რომ აჩვენონ სად არის ყვავილები.", "language": "ka"},
        {"topic": "How bees dance", "language": "hy"},
    ]).encode()  # fmt: skip
    # WHEN it is parsed
    parsed = parse_manifest(data, "json")
    # THEN the good row runs, and the other two are reported naming the field and the script
    assert [row.row for row in parsed.valid] == [1]
    problems = {r.row: [(p.field, p.message.split(":")[0]) for p in r.problems] for r in parsed.invalid}
    assert problems == {2: [("script", "captions cannot be drawn in Georgian script")],
                        3: [("language", "captions cannot be drawn in Armenian script")]}  # fmt: skip


def test_a_json_manifest_is_an_array_of_requests():
    data = json.dumps([{"topic": "How tides work"}, 42, {"topic": "Bees", "colour": "red"}]).encode()
    parsed = parse_manifest(data, "json")
    assert [row.row for row in parsed.valid] == [1]
    problems = {r.row: [(p.field, p.message) for p in r.problems] for r in parsed.invalid}
    assert problems[2] == [("row", "must be a JSON object of request fields")]
    assert problems[3][0][0] == "colour" and problems[3][0][1].startswith("is not a request field")


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (b"", "csv", "no header row"),
        (b"topic,colour\nBees,red\n", "csv", "unknown CSV column(s) 'colour'"),
        (b"topic,Topic\nBees,Ants\n", "csv", "names a column twice"),
        (b"topic\n", "csv", "has no rows"),
        (b'{"topic": "bees"}', "json", "must be an array"),
        (b"[", "json", "not valid JSON"),
        (b"[]", "json", "has no rows"),
        ("topic\nbees\n".encode("utf-16"), "csv", "not UTF-8"),
    ],
)
def test_a_manifest_that_cannot_be_read_as_a_whole_is_rejected_with_a_reason(data, kind, message):
    with pytest.raises(InvalidManifestError, match=re.escape(message)):
        parse_manifest(data, kind)


def test_extra_cells_make_that_row_invalid_only():
    parsed = parse_manifest(b"topic,format\nBees,1:1,surprise\nAnts,1:1\n", "csv")
    assert [r.row for r in parsed.valid] == [2]
    assert parsed.invalid[0].problems[0].message == "has more cells than the header has columns"


def test_too_many_rows_is_refused_before_any_video_starts():
    data = ("topic\n" + "A topic\n" * (MAX_ROWS + 1)).encode()
    with pytest.raises(InvalidManifestError, match=f"more than {MAX_ROWS} rows"):
        parse_manifest(data, "csv")


def test_names_are_deterministic_valid_and_change_with_the_bytes():
    # GIVEN one object as the event and the S3 API name it (the API quotes the ETag)
    a = naming.batch_execution_name("media", "batches/June Videos!.csv", "abc123")
    b = naming.batch_execution_name("media", "batches/June Videos!.csv", '"abc123"')
    # THEN the same object always gets the same, valid execution name
    assert a == b and EXECUTION_NAME.match(a) and a.startswith("june-videos-")
    # AND another upload (new ETag), another bucket or another key gets another one
    assert a != naming.batch_execution_name("media", "batches/June Videos!.csv", "def456")
    assert a != naming.batch_execution_name("other", "batches/June Videos!.csv", "abc123")
    ids = {naming.video_id("media", "batches/june.csv", "abc123", row) for row in range(1, MAX_ROWS + 1)}
    assert len(ids) == MAX_ROWS and all(EXECUTION_NAME.match(i) for i in ids)
    long_key = "batches/" + "x" * 900 + ".json"
    assert len(naming.video_id("media", long_key, "e", MAX_ROWS)) <= 80


@pytest.mark.parametrize(
    ("key", "kind", "name", "tenant", "report"),
    [
        ("batches/june.csv", "csv", "june", "batch", "reports/june.json"),
        ("batches/acme/july.JSON", "json", "acme/july", "acme", "reports/acme/july.json"),
    ],
)
def test_where_a_manifest_is_says_its_name_tenant_and_report(key, kind, name, tenant, report):
    assert naming.manifest_format(key) == kind
    assert (naming.manifest_name(key), naming.tenant_of(key), naming.report_key(key)) == (name, tenant, report)


@pytest.mark.parametrize("key", ["batches/a/b/c.csv", "batches/bad tenant!/x.csv"])
def test_a_manifest_too_deep_or_in_a_bad_tenant_folder_is_refused(key):
    with pytest.raises(InvalidManifestError, match="batches/<tenant>/<name>"):
        naming.tenant_of(key)


@pytest.mark.parametrize("key", ["batches/notes.txt", "reports/june.csv", "batches/", "work/batches/x/items.json"])
def test_only_csv_and_json_under_batches_are_manifests(key):
    assert naming.manifest_format(key) is None


def test_an_execution_arn_is_derived_from_its_machine():
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:faceless-VideoStateMachine"
    assert naming.execution_arn(machine, "june-r1-abc") == "arn:aws:states:us-east-1:123456789012:execution:faceless-VideoStateMachine:june-r1-abc"
