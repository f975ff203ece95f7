package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"schemaflow/internal/pgident"
)

// The revisions table is the official CLI's, with the same name, columns and
// meanings, so either binary can continue a history the other started.
const (
	revisionsSchema = "atlas_schema_revisions"
	revisionsTable  = "atlas_schema_revisions"
	// cloudIdentifier is a row the official CLI may keep in the table to
	// identify the database; it is not a migration.
	cloudIdentifier = ".atlas_cloud_identifier"
)

// revisions reads and writes the revisions table through a connection or a
// transaction (one per migration file, so a file and its record commit
// together).
type revisions struct {
	conn   schema.ExecQuerier
	schema string
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

func (r *revisions) table() string {
	return pgident.Qualified(r.schema, revisionsTable)
}

// ensureTable creates the schema and table when missing. Callers hold the
// migration lock, so two runs cannot race on the creation.
func (r *revisions) ensureTable(ctx context.Context) error {
	statements := []string{
		"CREATE SCHEMA IF NOT EXISTS " + pgident.Quote(r.schema),
		`CREATE TABLE IF NOT EXISTS ` + r.table() + ` (
    "version" character varying NOT NULL,
    "description" character varying NOT NULL,
    "type" bigint NOT NULL DEFAULT 2,
    "applied" bigint NOT NULL DEFAULT 0,
    "total" bigint NOT NULL DEFAULT 0,
    "executed_at" timestamptz NOT NULL,
    "execution_time" bigint NOT NULL,
    "error" text NULL,
    "error_stmt" text NULL,
    "hash" character varying NOT NULL,
    "partial_hashes" jsonb NULL,
    "operator_version" character varying NOT NULL,
    PRIMARY KEY ("version")
)`,
	}
	for _, stmt := range statements {
		if _, err := r.conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create the revisions table: %w", err)
		}
	}
	return nil
}

// exists reports whether the revisions table is there (status must not
// create it).
func (r *revisions) exists(ctx context.Context) (bool, error) {
	rows, err := r.conn.QueryContext(ctx, "SELECT to_regclass($1) IS NOT NULL", r.table())
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var found bool
	if rows.Next() {
		if err := rows.Scan(&found); err != nil {
			return false, err
		}
	}
	return found, rows.Err()
}

// orNone is the history to read: this table, or an empty one when the
// table does not exist yet (nothing applied), for commands that must not
// create it.
func (r *revisions) orNone(ctx context.Context) (migrate.RevisionReadWriter, error) {
	found, err := r.exists(ctx)
	switch {
	case err != nil:
		return nil, err
	case found:
		return r, nil
	default:
		return migrate.NopRevisionReadWriter{}, nil
	}
}

func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: revisionsTable, Schema: r.schema}
}

const revisionColumns = `"version", "description", "type", "applied", "total", "executed_at",
"execution_time", coalesce("error", ''), coalesce("error_stmt", ''), "hash", "partial_hashes", "operator_version"`

func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	return r.query(ctx, `SELECT `+revisionColumns+` FROM `+r.table()+
		` WHERE "version" <> $1 ORDER BY "version"`, cloudIdentifier)
}

func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	found, err := r.query(ctx, `SELECT `+revisionColumns+` FROM `+r.table()+
		` WHERE "version" = $1 AND "version" <> $2`, version, cloudIdentifier)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, migrate.ErrRevisionNotExist
	}
	return found[0], nil
}

func (r *revisions) query(ctx context.Context, query string, params ...any) ([]*migrate.Revision, error) {
	rows, err := r.conn.QueryContext(ctx, query, params...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*migrate.Revision
	for rows.Next() {
		var (
			rev      migrate.Revision
			kind     int64
			nanos    int64
			partials sql.NullString
		)
		if err := rows.Scan(&rev.Version, &rev.Description, &kind, &rev.Applied, &rev.Total,
			&rev.ExecutedAt, &nanos, &rev.Error, &rev.ErrorStmt, &rev.Hash, &partials,
			&rev.OperatorVersion); err != nil {
			return nil, err
		}
		rev.Type = migrate.RevisionType(kind)
		rev.ExecutionTime = time.Duration(nanos)
		// The official CLI stores an empty list as JSON null; both mean none.
		if partials.Valid && partials.String != "null" {
			if err := json.Unmarshal([]byte(partials.String), &rev.PartialHashes); err != nil {
				return nil, fmt.Errorf("revision %s: partial_hashes: %w", rev.Version, err)
			}
		}
		out = append(out, &rev)
	}
	return out, rows.Err()
}

// WriteRevision inserts or updates a revision. As in the official CLI, the
// description and the start time of the first attempt are kept on update.
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	if rev.Version == cloudIdentifier {
		return errors.New("refusing to write the revisions table's identifier row")
	}
	// JSON null when there are none, as the official CLI stores it.
	encoded, err := json.Marshal(rev.PartialHashes)
	if err != nil {
		return err
	}
	_, err = r.conn.ExecContext(ctx, `INSERT INTO `+r.table()+` AS r
    ("version", "description", "type", "applied", "total", "executed_at", "execution_time",
     "error", "error_stmt", "hash", "partial_hashes", "operator_version")
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)
ON CONFLICT ("version") DO UPDATE SET
    "type" = excluded."type", "applied" = excluded."applied", "total" = excluded."total",
    "execution_time" = excluded."execution_time", "error" = excluded."error",
    "error_stmt" = excluded."error_stmt", "hash" = excluded."hash",
    "partial_hashes" = excluded."partial_hashes", "operator_version" = excluded."operator_version"`,
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt,
		int64(rev.ExecutionTime), rev.Error, rev.ErrorStmt, rev.Hash, string(encoded), rev.OperatorVersion)
	return err
}

func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	_, err := r.conn.ExecContext(ctx, `DELETE FROM `+r.table()+` WHERE "version" = $1`, version)
	return err
}
