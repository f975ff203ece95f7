-- Users are created and read by the auth layer; tenant queries never touch
-- other users' rows.

-- name: CreateUser :one
-- A taken e-mail (any letter case) inserts nothing: the caller reports Conflict.
INSERT INTO users (email, name)
VALUES (@email, @name)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetUser :one
SELECT * FROM users
WHERE id = @id;

-- name: GetUserByEmail :one
SELECT * FROM users
WHERE lower(email) = lower(@email::text);
