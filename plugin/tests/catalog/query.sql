-- name: AddNode :one
INSERT INTO nodes (id, path, aliases, pattern, op)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: Subtree :many
SELECT * FROM nodes WHERE path <@ @root::ltree ORDER BY id;

-- name: Parent :one
SELECT subpath(path, 0, nlevel(path) - 1) FROM nodes WHERE id = $1;

-- name: Matching :many
SELECT id FROM nodes WHERE path ~ @pattern::lquery ORDER BY id;

-- name: ByOps :many
SELECT id, op FROM nodes WHERE op = ANY(@ops::op[]) ORDER BY id;

-- name: RefreshOne :exec
REFRESH MATERIALIZED VIEW one;

-- name: DepthIds :many
SELECT id FROM node_depths ORDER BY id;
