-- Give up after 5s waiting for a lock rather than queue the table's other queries behind it (apply again later)
SET LOCAL lock_timeout = '5s';
-- No time limit once the locks are held: scans and index builds take what the data needs
SET LOCAL statement_timeout = 0;
-- Modify "project_files" table
ALTER TABLE "public"."project_files" ADD CONSTRAINT "project_files_content_size" CHECK (size_bytes <= 5242880) NOT VALID;
