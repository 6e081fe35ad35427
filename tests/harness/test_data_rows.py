"""Data source files: CSV, JSON and JSONL rows, and every malformed file as `file:line`."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data_rows import DataFileError, format_of, read_rows


def test_reads_csv_rows_as_text_by_header(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text('username,password\nalice,"p,1"\n\nbob,p2\n')
    rows = read_rows(path, "csv")
    assert rows.columns == ("username", "password")
    assert len(rows) == 2
    assert rows.row(0) == {"username": "alice", "password": "p,1"}
    assert rows.row(1) == {"username": "bob", "password": "p2"}


def test_reads_json_and_jsonl_rows_with_their_types(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"id": 1, "tags": ["x"]}, {"id": 2, "name": "b"}]')
    (tmp_path / "a.jsonl").write_text('{"id": 1}\n\n{"id": 2, "ok": true}\n')
    rows = read_rows(tmp_path / "a.json", "json")
    assert rows.columns == ("id", "tags", "name")
    assert rows.row(1) == {"id": 2, "name": "b"}
    lines = read_rows(tmp_path / "a.jsonl", "jsonl")
    assert len(lines) == 2
    assert lines.row(1) == {"id": 2, "ok": True}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("r.csv", "a,b\n1,2\n3\n", "r.csv:3: the row has 1 fields, the header 2 (a, b)"),
        ("d.csv", "a,a\n1,2\n", "d.csv:1: duplicate column 'a'"),
        ("e.csv", "", "e.csv:1: is empty"),
        ("h.csv", "a,b\n", "h.csv:1: has no rows"),
        ("q.csv", 'a,b\n"1,2\n', "q.csv:2: not valid CSV"),
        ("b.json", '[{"a": 1},\n {"a": }]', "b.json:2: not valid JSON"),
        ("o.json", '{"a": 1}', "o.json:1: expected an array of objects, got dict"),
        ("i.json", "[1]", "i.json: item 0 of the array is int, expected an object"),
        ("l.jsonl", '{"a": 1}\n[2]\n', "l.jsonl:2: expected one JSON object a line, got list"),
        ("m.jsonl", '{"a": 1}\n{oops\n', "m.jsonl:2: not valid JSON"),
    ],
)
def test_a_malformed_file_is_an_error_at_its_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    data_format = format_of(path)
    assert data_format is not None
    with pytest.raises(DataFileError) as error:
        read_rows(path, data_format, label=name)
    assert str(error.value).startswith(message)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"nope\.csv: no such file"):
        read_rows(tmp_path / "nope.csv", "csv", label="nope.csv")


def test_the_format_comes_from_the_extension_unless_given() -> None:
    assert format_of("a.CSV") == "csv"
    assert format_of("a.ndjson") == "jsonl"
    assert format_of("a.txt") is None
    assert format_of("a.txt", "json") == "json"


def test_a_large_csv_keeps_rows_as_tuples(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,name\n" + "".join(f"{i},user{i}\n" for i in range(100_000)))
    rows = read_rows(path, "csv")
    assert len(rows) == 100_000
    assert isinstance(rows.tuples[0], tuple)
    assert rows.row(99_999) == {"id": "99999", "name": "user99999"}
