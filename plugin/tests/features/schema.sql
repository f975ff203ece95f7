-- Every column type the plugin maps, for plugin/tests/test_features.py.
CREATE TYPE mood AS ENUM ('happy', 'sad', 'in-between', 'so "so"');

CREATE TABLE owners (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE things (
    id uuid PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES owners (id),
    small int2 NOT NULL,
    medium int4 NOT NULL,
    big int8,
    price numeric(10, 2) NOT NULL,
    ratio float8 NOT NULL,
    active bool NOT NULL,
    label varchar(20) NOT NULL,
    code char(3) NOT NULL,
    note text,
    created_at timestamptz NOT NULL,
    local_at timestamp NOT NULL,
    day date NOT NULL,
    at_time time NOT NULL,
    span interval NOT NULL,
    blob bytea NOT NULL,
    doc json NOT NULL DEFAULT '{}',
    docb jsonb,
    tags text[] NOT NULL,
    grid int4[][] NOT NULL,
    mood mood NOT NULL,
    moods mood[] NOT NULL
);

CREATE TABLE docs (
    id serial PRIMARY KEY,
    title text NOT NULL,
    meta jsonb NOT NULL
);

COMMENT ON TABLE docs IS '"Docs" with a typed meta (a back\slash too)';
