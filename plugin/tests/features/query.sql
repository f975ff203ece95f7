-- Every command the plugin supports, over features/schema.sql.
-- plugin/tests/test_features.py runs each generated function.

-- name: CreateOwner :one
INSERT INTO owners (name) VALUES ($1) RETURNING *;

-- name: CopyOwners :copyfrom
INSERT INTO owners (id, name) VALUES ($1, $2);

-- name: GetOwner :one
-- @into
SELECT * FROM owners WHERE id = $1;

-- name: OwnerLabels :many
-- @into
-- Each owner with the length of its name.
SELECT id, name, length(name)::int AS name_length FROM owners ORDER BY id;

-- name: FindOwners :many
SELECT * FROM owners
WHERE (sqlc.narg(name)::text IS NULL OR name = sqlc.narg(name))
ORDER BY id;

-- name: RenameOwners :batchexec
UPDATE owners SET name = $1 WHERE id = $2;

-- name: GetOwners :batchone
SELECT * FROM owners WHERE id = $1;

-- name: CreateThing :one
INSERT INTO things (
    id, owner_id, small, medium, big, price, ratio, active, label, code, note,
    created_at, local_at, day, at_time, span, blob, doc, docb, tags, grid, mood, moods
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
    $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23
) RETURNING *;

-- name: GetThing :one
SELECT * FROM things WHERE id = $1;

-- name: ListThings :many
-- @iter
-- Every thing, in medium order.
SELECT * FROM things ORDER BY medium;

-- name: ThingsByIds :many
-- @iter
SELECT * FROM things WHERE id = ANY(@ids::uuid[]) ORDER BY medium;

-- name: ThingsByMoods :many
SELECT id, mood FROM things WHERE mood = ANY(@moods::mood[]) ORDER BY medium;

-- name: ThingsWithOwners :many
SELECT sqlc.embed(things), sqlc.embed(owners), things.label AS thing_label
FROM things JOIN owners ON owners.id = things.owner_id
ORDER BY things.medium;

-- name: ThingsByOwners :batchmany
SELECT * FROM things WHERE owner_id = $1 ORDER BY medium;

-- name: SetNotes :exec
UPDATE things SET note = @note WHERE owner_id = @owner_id;

-- name: Deactivate :execrows
UPDATE things SET active = false WHERE active;

-- name: DeleteThing :execresult
DELETE FROM things WHERE id = $1;

-- "Shout" the text back, upper-cased.
-- name: Shout :one
SELECT upper($1::text)::text AS shout;

-- name: AddDocs :batchone
INSERT INTO docs (title, meta) VALUES ($1, $2) RETURNING *;

-- name: GetDoc :one
SELECT * FROM docs WHERE id = $1;

-- name: GetDocMeta :one
SELECT meta FROM docs WHERE id = $1;

-- name: GetMoods :one
SELECT moods FROM things WHERE id = $1;

-- name: CopyThings :copyfrom
INSERT INTO things (
    id, owner_id, small, medium, big, price, ratio, active, label, code, note,
    created_at, local_at, day, at_time, span, blob, doc, docb, tags, grid, mood, moods
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
    $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23
);

-- name: LockOne :one
SELECT pg_advisory_lock($1);

-- name: LockMany :many
SELECT pg_advisory_unlock_all() FROM generate_series(1, @times::int);

-- name: LockExec :exec
SELECT pg_advisory_unlock($1);

-- name: LongestNames :many
-- The same fields as OwnerLabelsRow: one converter builds both.
SELECT id, name, length(name)::int AS name_length FROM owners
ORDER BY name_length DESC, id;

-- name: CountOwners :one
SELECT count(*) FROM owners;

-- name: OwnerExists :one
SELECT EXISTS (SELECT 1 FROM owners WHERE id = $1) AS found;

-- name: OwnerStats :one
SELECT count(*) AS owners, max(id)::bigint AS last_id FROM owners WHERE name <> $1;

-- name: FirstOwnerCount :one
SELECT count(*) FROM owners GROUP BY name ORDER BY name LIMIT 1;
