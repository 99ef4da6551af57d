-- SQL's doors to files (read_files, csv.`path`, COPY INTO, LIST) open only on volume paths.
-- Reads of real volume files need files in a volume: tests/test_sql_files.py.
-- case: a host path is a path no volume governs
SELECT * FROM read_files('/etc/passwd');
-- expect-error: [INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have permission SELECT on any file.
-- case: a host path with a format
SELECT * FROM read_files('/etc/passwd', format => 'text');
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: a file URL
SELECT * FROM read_files('file:///etc/passwd', format => 'text');
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: cloud storage outside any volume
SELECT * FROM read_files('s3://bucket/raw/', format => 'json');
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: dot-dot out of a volume path
SELECT * FROM read_files('/Volumes/main/default/v/../../../../etc/passwd', format => 'text');
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: a volume path that names no volume
SELECT * FROM read_files('/Volumes/main/default');
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: a volume that does not exist
SELECT * FROM read_files('/Volumes/main/default/corpus_no_such_volume/x.csv', format => 'csv');
-- expect-error: [UC_VOLUME_NOT_FOUND] Volume `main`.`default`.`corpus_no_such_volume` does not exist. Please use 'SHOW VOLUMES' to list available volumes.
-- case: a volume in a schema that does not exist
SELECT * FROM read_files('/Volumes/main/corpus_no_such_schema/v/x.csv');
-- expect-error: UC_VOLUME_NOT_FOUND
-- case: dbfs:/Volumes paths are volume paths too
SELECT * FROM read_files('dbfs:/Volumes/main/default/corpus_no_such_volume/');
-- expect-error: UC_VOLUME_NOT_FOUND
-- case: options are named
SELECT * FROM read_files('/Volumes/main/default/corpus_no_such_volume/', 'csv');
-- expect-error: UNEXPECTED_POSITIONAL_ARGUMENT
-- case: the path comes first
SELECT * FROM read_files(format => 'csv');
-- expect-error: REQUIRED_PARAMETER_NOT_FOUND
-- case: an unknown option
SELECT * FROM read_files('/Volumes/main/default/corpus_no_such_volume/', colour => 'red');
-- expect-error: CF_UNKNOWN_OPTION_KEYS_ERROR
-- case: a query on a host file
SELECT * FROM csv.`/etc/passwd`;
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: a query on a file in a missing volume
SELECT * FROM parquet.`/Volumes/main/default/corpus_no_such_volume/part-0.parquet`;
-- expect-error: UC_VOLUME_NOT_FOUND
-- case: DuckDB's own readers stay unknown, even on volume paths
SELECT * FROM read_csv('/Volumes/main/default/corpus_no_such_volume/x.csv');
-- expect-error: UNRESOLVED_ROUTINE
-- case: a bare path in FROM is not Databricks SQL
SELECT * FROM '/Volumes/main/default/corpus_no_such_volume/x.csv';
-- expect-error: PARSE_SYNTAX_ERROR
-- case: COPY INTO's target
CREATE TABLE {schema}.bronze (id INT, name STRING);
-- expect-ok
-- case: COPY INTO from a host folder
COPY INTO {schema}.bronze FROM '/etc' FILEFORMAT = CSV;
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: COPY INTO with a SELECT over a host folder
COPY INTO {schema}.bronze FROM (SELECT _c0 AS id FROM '/etc') FILEFORMAT = CSV;
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: COPY INTO from a missing volume
COPY INTO {schema}.bronze FROM '/Volumes/main/default/corpus_no_such_volume/' FILEFORMAT = JSON;
-- expect-error: UC_VOLUME_NOT_FOUND
-- case: nothing was loaded
SELECT count(*) FROM {schema}.bronze;
-- expect: [["0"]]
-- case: LIST a host folder
LIST '/etc';
-- expect-error: INSUFFICIENT_PERMISSIONS
-- case: LIST a missing volume
LIST '/Volumes/main/default/corpus_no_such_volume' LIMIT 5;
-- expect-error: UC_VOLUME_NOT_FOUND
