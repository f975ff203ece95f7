-- The application's own settings, read once when the Store opens.

-- name: GetCursorSigningKey :one
SELECT key FROM cursor_signing_key
WHERE id;
