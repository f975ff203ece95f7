-- name: AddVenue :one
INSERT INTO "x-venues" (id, "venue name", "class", "2fa code", "list", "date", status)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: List :many
-- A function named like a builtin: later annotations still mean list.
SELECT * FROM "x-venues" ORDER BY id;

-- name: GetCode :one
SELECT * FROM "2fa codes" WHERE id = $1;

-- name: Datetime :one
SELECT now()::timestamptz AS now;

-- name: Pair :one
-- One SQL name twice: sqlc's id, id_2.
SELECT 1::int AS id, 1::int AS id;

-- name: AddCounters :copyfrom
INSERT INTO counters (id, count, index) VALUES ($1, $2, $3);

-- name: SetCounts :batchexec
UPDATE counters SET count = $1, index = $2, json = $3 WHERE id = $4;

-- name: GetCounter :one
SELECT * FROM counters WHERE id = $1;

-- name: ByCount :many
SELECT json, schema, count FROM counters WHERE count = $1 ORDER BY id;

-- name: CountersNamedLikeArguments :many
-- @into
-- @iter
-- Parameters named like the generated functions' own arguments.
SELECT id, count FROM counters
WHERE count = @conn::int AND index = @row_model::int AND id > @prefetch::int
   OR json = @timeout::text OR schema = @params::text
ORDER BY id;

-- Long names: ruff format lays out what is written around them, whatever
-- their length.

-- name: ReadTheCountersWithAVeryLongQueryNameForLayout :one
-- @into
SELECT id, count FROM counters WHERE id = $1;

-- name: ListTheCountersWithAVeryLongQueryNameForLayout :many
-- @iter
-- @into
SELECT id, count FROM counters ORDER BY id;

-- name: AddTheCountersWithAVeryLongQueryNameForTheLayoutTest :batchone
INSERT INTO counters (id, count, index) VALUES ($1, $2, 0) RETURNING id, count;

-- name: FindTheCountersWithAVeryLongQueryNameForTheLayoutTests :batchone
SELECT id, count FROM counters WHERE id = $1;

-- name: ListTheCountersByCountWithAVeryLongQueryNameForLayouts :batchmany
SELECT id, count FROM counters WHERE count = $1 ORDER BY id;

-- name: SetTheCountersWithAVeryLongQueryNameForTheLayoutTest :batchexec
UPDATE counters SET count = $1 WHERE id = $2;


-- name: ReadTheCountersUnderANameFarLongerThanAnyLineRuffFormatWouldLeaveOnItsOwnEvenAtTheDeepestIndentOfThisModule :one
-- @into
SELECT id, count FROM counters WHERE id = $1;

-- name: ListTheCountersUnderANameFarLongerThanAnyLineRuffFormatWouldLeaveOnItsOwnEvenAtTheDeepestIndentOfThisModule :many
-- @iter
-- @into
SELECT id, count FROM counters WHERE count >= @at_least_this_many_counted_which_is_a_long_parameter_name_too ORDER BY id;

-- name: FindTheCountersUnderANameFarLongerThanAnyLineRuffFormatWouldLeaveOnItsOwnEvenAtTheDeepestIndentOfThisModule :batchone
SELECT id, count FROM counters WHERE id = $1;

-- name: ListTheCountersByCountUnderANameFarLongerThanAnyLineRuffFormatWouldLeaveOnItsOwnEvenAtTheDeepestIndent :batchmany
SELECT id, count FROM counters WHERE count = $1 ORDER BY id;

-- name: CopyTheCountersUnderANameFarLongerThanAnyLineRuffFormatWouldLeaveOnItsOwnEvenAtTheDeepestIndentOfThisModule :copyfrom
INSERT INTO counters (id, count, index) VALUES ($1, $2, $3);
