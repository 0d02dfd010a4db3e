"""The endpoint's pure checks: statement inspection on the canonical form, settings policy,
ClickHouse's codes and HTTP statuses."""

from __future__ import annotations

import pytest

from riskstream.storage.sql_guard import (
    AnalystPolicy,
    QueryError,
    Statement,
    check_files,
    escape_param,
    http_status,
    parse_set,
    quote,
)

KNOWN = frozenset({"max_execution_time", "max_memory_usage", "readonly", "max_threads",
                   "output_format_json_quote_64bit_integers", "allow_ddl", "max_result_rows",
                   "enable_http_compression"})


def test_statuses_follow_clickhouse() -> None:
    assert [http_status(c) for c in (516, 194, 62, 60, 164, 159, 229, 48, 1000)] == [
        403, 401, 400, 404, 500, 408, 413, 501, 500]


@pytest.mark.parametrize("canonical", [
    "SELECT 1 INTO OUTFILE '/tmp/x'", "INSERT INTO t FROM INFILE '/etc/passwd' FORMAT CSV",
    "(SELECT 1) INTO OUTFILE 'x' TRUNCATE",
])
def test_file_clauses_are_refused(canonical: str) -> None:
    with pytest.raises(QueryError) as err:
        check_files(Statement(canonical))
    assert err.value.code == 48 and err.value.status == 501


def test_quoted_text_hides_nothing_and_fakes_nothing() -> None:
    check_files(Statement("SELECT 'INTO OUTFILE x'"))  # a string, not a clause
    stmt = Statement("SELECT `FORMAT JSON`, 'a;b' FROM db.t AS x FORMAT CSV")
    assert (stmt.kind, stmt.output_format()) == ("SELECT", "CSV")
    assert "db" in stmt.qualifiers() and "a;b" not in stmt.bare
    assert Statement("(SELECT 1) UNION ALL (SELECT 2)").kind == "SELECT"


def test_parse_set_reads_the_canonical_form() -> None:
    assert parse_set("SET a = 1, b = 'x, y', c = 'it\\'s'") == {"a": "1", "b": "x, y", "c": "it's"}
    assert parse_set("SELECT 1") == {}


def test_literals_round_trip_escapes() -> None:
    assert quote("it's \\") == "'it\\'s \\\\'"
    assert escape_param("a\tb\nc\\") == "a\\tb\\nc\\\\"


def test_policy_lowers_limits_but_never_lifts_them() -> None:
    policy = AnalystPolicy()
    assert policy.check("max_execution_time", "5", KNOWN) == "5"
    assert policy.check("output_format_json_quote_64bit_integers", "0", KNOWN) == "0"
    assert policy.check("readonly", "1", KNOWN) is None
    assert policy.check("enable_http_compression", "1", KNOWN) is None
    refused = [("max_execution_time", "100000", 452), ("max_memory_usage", "0", 452),
               ("max_threads", "64", 452), ("max_threads", "many", 36), ("readonly", "0", 164),
               ("readonly", "2", 164), ("allow_ddl", "1", 164), ("no_such", "1", 115)]
    for name, value, code in refused:
        with pytest.raises(QueryError) as err:
            policy.check(name, value, KNOWN)
        assert err.value.code == code, (name, value)


def test_error_text_is_clickhouse_shaped() -> None:
    assert QueryError(164, "no").text() == "Code: 164. DB::Exception: no (READONLY)"
    assert QueryError(60, "Code: 60. DB::Exception: x").text() == "Code: 60. DB::Exception: x"
