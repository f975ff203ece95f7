-- What sqlc's catalog holds besides tables of built-in types, for
-- plugin/tests/test_catalog.py: an extension's types.
CREATE EXTENSION IF NOT EXISTS ltree;

CREATE TABLE nodes (
    id int PRIMARY KEY,
    path ltree NOT NULL,
    aliases ltree[] NOT NULL,
    pattern lquery
);
