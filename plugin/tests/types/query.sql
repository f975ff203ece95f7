-- Round trips of every type family (plugin/tests/test_types.py).

-- name: InsertSample :one
INSERT INTO samples (id, inet_v, inet_a, cidr_v, cidr_a, bit_v, bit_a, varbit_v, varbit_a, point_v, point_a, line_v, line_a, lseg_v, lseg_a, box_v, box_a, path_v, path_a, polygon_v, polygon_a, circle_v, circle_a, int4range_v, int4range_a, int8range_v, int8range_a, numrange_v, numrange_a, tsrange_v, tsrange_a, tstzrange_v, tstzrange_a, daterange_v, daterange_a, int4multirange_v, int4multirange_a, int8multirange_v, int8multirange_a, nummultirange_v, nummultirange_a, tsmultirange_v, tsmultirange_a, tstzmultirange_v, tstzmultirange_a, datemultirange_v, datemultirange_a, oid_v, oid_a, pg_lsn_v, pg_lsn_a, interval_v, interval_a, timetz_v, timetz_a, xid8_v, xid8_a, char_v, char_a, tid_v, tid_a, pg_snapshot_v, pg_snapshot_a, json_v, json_a, jsonb_v, jsonb_a)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53, $54, $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66, $67)
RETURNING *;

-- name: GetSample :one
SELECT * FROM samples WHERE id = $1;

-- name: CopySamples :copyfrom
-- Binary COPY of every type it can carry, json and jsonb included.
INSERT INTO samples (id, inet_v, inet_a, cidr_v, cidr_a, bit_v, bit_a, varbit_v, varbit_a, point_v, point_a, line_v, line_a, lseg_v, lseg_a, box_v, box_a, path_v, path_a, polygon_v, polygon_a, circle_v, circle_a, int4range_v, int4range_a, int8range_v, int8range_a, numrange_v, numrange_a, tsrange_v, tsrange_a, tstzrange_v, tstzrange_a, daterange_v, daterange_a, int4multirange_v, int4multirange_a, int8multirange_v, int8multirange_a, nummultirange_v, nummultirange_a, tsmultirange_v, tsmultirange_a, tstzmultirange_v, tstzmultirange_a, datemultirange_v, datemultirange_a, oid_v, oid_a, pg_lsn_v, pg_lsn_a, interval_v, interval_a, timetz_v, timetz_a, xid8_v, xid8_a, char_v, char_a, tid_v, tid_a, pg_snapshot_v, pg_snapshot_a, json_v, json_a, jsonb_v, jsonb_a)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53, $54, $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66, $67);

-- name: InsertTextSample :one
INSERT INTO text_samples (id, macaddr_v, macaddr_a, macaddr8_v, macaddr8_a, money_v, money_a, tsvector_v, tsvector_a, tsquery_v, tsquery_a)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *;

-- name: InsertXml :one
INSERT INTO xml_samples (id, doc, docs) VALUES ($1, $2, $3) RETURNING *;

-- name: CopyXml :copyfrom
INSERT INTO xml_samples (id, doc, docs) VALUES ($1, $2, $3);

-- name: GetXml :one
SELECT * FROM xml_samples WHERE id = $1;

-- name: ServerBuiltArrays :one
-- Arrays asyncpg can read but not send (it takes their elements for
-- nested arrays).
SELECT ARRAY['((0,0),(1,0))'::path]::path[] AS paths,
    ARRAY['((0,0),(1,0),(0,1))'::polygon]::polygon[] AS polygons,
    ARRAY['{[1,3),[5,7)}'::int4multirange, '{}']::int4multirange[] AS multiranges;
