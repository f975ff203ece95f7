-- What sqlc's catalog holds besides tables of built-in types, for
-- plugin/tests/test_catalog.py: an extension's types, enum values with no
-- letter or digit, and views with a column that has no name.
CREATE EXTENSION IF NOT EXISTS ltree;

CREATE TYPE op AS ENUM ('#', '*', 'minus', '-1');

CREATE TABLE nodes (
    id int PRIMARY KEY,
    path ltree NOT NULL,
    aliases ltree[] NOT NULL,
    pattern lquery,
    op op NOT NULL
);

-- Neither has a model: PostgreSQL names their unaliased columns ?column?,
-- sqlc leaves them unnamed.
CREATE MATERIALIZED VIEW one AS SELECT 1;
CREATE VIEW node_depths AS SELECT id, nlevel(path) + 0 FROM nodes;
