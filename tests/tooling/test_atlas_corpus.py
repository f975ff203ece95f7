"""How the hand-run comparison with the official Atlas CLI reads Atlas's test
scripts (devtools.atlas_corpus) and pairs their states: on archives written
here, so no Atlas source tree is needed."""

from __future__ import annotations

from devtools import atlas_corpus, atlas_parity
from devtools.atlas_corpus import Part

ARCHIVE = """\
execsql 'CREATE DOMAIN $db.positive AS bigint CHECK (VALUE > 0)'
apply 1.hcl
cmpshow users 1.sql
! apply 2.hcl 'cannot be changed'
synced 1.hcl
# a comment line
atlas migrate diff v3 --to file://./schema.v3.sql --dev-url URL
atlas migrate diff v3-check --to=file://schema.v3.sql --dev-url URL
! atlas schema inspect -u file://schema.v3.sql
execsql 'INSERT INTO script_domain_test.users VALUES (''it''''s'')'

-- 1.hcl --
schema "$db" {}
table "users" {
  schema = schema.$db
}
-- 1.sql --
expected psql output, not a state
-- 2.hcl --
schema "script_domain_test" {}
-- schema.v3.sql --
CREATE TABLE script_domain_test.users (c text);
"""


def test_an_archive_splits_into_its_script_and_files() -> None:
    archive = atlas_corpus.parse_archive(ARCHIVE)
    assert archive.script.startswith("execsql ")
    assert archive.script.endswith("'')'\n\n")
    assert list(archive.files) == ["1.hcl", "1.sql", "2.hcl", "schema.v3.sql"]
    assert archive.files["1.sql"] == "expected psql output, not a state\n"


def test_script_words_keep_single_quoted_strings_whole() -> None:
    assert atlas_corpus.split_words("execsql 'a b' c  'it''s'") == [
        "execsql",
        "a b",
        "c",
        "it's",
    ]
    assert atlas_corpus.split_words("x ''") == ["x", ""]


def test_states_follow_the_script_in_the_public_schema() -> None:
    extracted = atlas_corpus.extract("domain-test", ARCHIVE)
    domain = "CREATE DOMAIN public.positive AS bigint CHECK (VALUE > 0);\n"
    users = "CREATE TABLE public.users (c text);\n"
    assert [(s.label, s.parts) for s in extracted.states] == [
        ("execsql", (Part("sql", domain),)),
        # The domain stays in the test's database under the next HCL state.
        (
            "1.hcl",
            (
                Part("sql", domain),
                Part(
                    "hcl",
                    'schema "public" {}\ntable "users" {\n  schema = schema.public\n}\n',
                ),
            ),
        ),
        # `synced 1.hcl` is the same state again; the second `--to` of the
        # same file too; the failing inspect is a check of its flags.
        ("schema.v3.sql", (Part("sql", users),)),
        (
            "schema.v3.sql + execsql",
            (
                Part("sql", users),
                Part("sql", "INSERT INTO public.users VALUES ('it''s');\n"),
            ),
        ),
    ]
    assert extracted.skipped == ("2.hcl: expected to fail",)


def test_a_migration_folder_is_a_state_per_file_in_version_order() -> None:
    archive = """\
atlas migrate apply --url URL

-- migrations/10_third.sql --
CREATE INDEX i ON t (a);
-- migrations/2_second.sql --
ALTER TABLE t ADD COLUMN b int;
-- migrations/1_first.sql --
CREATE TABLE t (a int);
"""
    states = atlas_corpus.extract("folder", archive).states
    assert [s.label for s in states] == [
        "migrations/1_first.sql",
        "migrations/2_second.sql",
        "migrations/10_third.sql",
    ]
    assert states[2].parts == (
        Part(
            "sql",
            "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;\n"
            "CREATE INDEX i ON t (a);\n",
        ),
    )


def test_statements_split_outside_quotes_dollar_quotes_and_comments() -> None:
    script = (
        "-- a comment; still a comment\n"
        "CREATE FUNCTION f() RETURNS text AS $body$ BEGIN RETURN 'a;b'; END; $body$"
        " LANGUAGE plpgsql;\n"
        "CREATE TABLE \"a;b\" (c text DEFAULT 'it''s;');\n"
        "SELECT 1\n"
        "-- trailing comment\n"
    )
    assert atlas_corpus.split_statements(script) == [
        "-- a comment; still a comment\n"
        "CREATE FUNCTION f() RETURNS text AS $body$ BEGIN RETURN 'a;b'; END; $body$"
        " LANGUAGE plpgsql;",
        "CREATE TABLE \"a;b\" (c text DEFAULT 'it''s;');",
        "SELECT 1\n-- trailing comment",
    ]
    assert atlas_corpus.split_statements("-- only a comment\n") == []


def _rendered(label: str) -> atlas_parity.Rendered:
    state = atlas_corpus.State("t", label, (Part("sql", f"-- {label}\n"),))
    return atlas_parity.Rendered(state, f"-- {label}\n")


def test_consecutive_states_pair_both_ways() -> None:
    chain = [_rendered("1"), _rendered("2"), _rendered("3")]
    labels = [
        (a.state.label, b.state.label) for a, b in atlas_parity.pairs(chain, False)
    ]
    assert labels == [("1", "2"), ("2", "1"), ("2", "3"), ("3", "2")]
    with_empty = atlas_parity.pairs(chain, True)
    empty = atlas_parity.EMPTY
    assert [(a.state.label, b.state.label) for a, b in with_empty] == [
        (empty, "1"),
        ("1", empty),
        *labels,
    ]
    assert with_empty[0][0].sql == ""
