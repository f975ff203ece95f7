-- name: AddNode :one
INSERT INTO nodes (id, path, aliases, pattern)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: Subtree :many
SELECT * FROM nodes WHERE path <@ @root::ltree ORDER BY id;

-- name: Parent :one
SELECT subpath(path, 0, nlevel(path) - 1) FROM nodes WHERE id = $1;

-- name: Matching :many
SELECT id FROM nodes WHERE path ~ @pattern::lquery ORDER BY id;
