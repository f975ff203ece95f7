-- Users are created and read by the auth layer; tenant queries never touch
-- other users' rows.

-- name: CreateUser :one
-- A taken e-mail (any letter case) fails with unique_violation, which the
-- caller reports as Conflict. No ON CONFLICT: on Citus an upsert into the
-- reference table users locks its shard as a non-commutative write, which
-- takes UPDATE, DELETE or TRUNCATE on users; a plain INSERT needs INSERT.
INSERT INTO users (email, name)
VALUES (@email, @name)
RETURNING *;

-- name: GetUser :one
SELECT * FROM users
WHERE id = @id;
