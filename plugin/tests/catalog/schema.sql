-- What sqlc's catalog holds besides tables of built-in types, for
-- plugin/tests/test_catalog.py: an extension's types and enum values with
-- no letter or digit.
CREATE EXTENSION IF NOT EXISTS ltree;

CREATE TYPE op AS ENUM ('#', '*', 'minus', '-1');

CREATE TABLE nodes (
    id int PRIMARY KEY,
    path ltree NOT NULL,
    aliases ltree[] NOT NULL,
    pattern lquery,
    op op NOT NULL
);
