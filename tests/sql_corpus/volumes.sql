-- Unity Catalog volumes in SQL (format: see tests/test_sql_corpus.py).
-- A catalog of its own keeps schema names fixed, so SHOW/DESCRIBE rows can be compared.
-- case: set-up
CREATE CATALOG IF NOT EXISTS corpus_volumes;
-- expect-ok
CREATE SCHEMA IF NOT EXISTS corpus_volumes.landing;
-- expect-ok
-- case: a managed volume with a comment
CREATE VOLUME corpus_volumes.landing.raw COMMENT 'raw drops';
-- expect-ok
-- case: the same name again
CREATE VOLUME corpus_volumes.landing.raw;
-- expect-error: VOLUME_ALREADY_EXISTS
-- case: IF NOT EXISTS tolerates it
CREATE VOLUME IF NOT EXISTS corpus_volumes.landing.raw;
-- expect-ok
CREATE VOLUME corpus_volumes.landing.archive;
-- expect-ok
-- case: SHOW VOLUMES lists database and volumeName, sorted
SHOW VOLUMES IN corpus_volumes.landing;
-- expect: [["landing", "archive"], ["landing", "raw"]]
-- case: SHOW VOLUMES with a pattern
SHOW VOLUMES IN corpus_volumes.landing LIKE 'r*';
-- expect: [["landing", "raw"]]
-- case: SHOW VOLUMES FROM with alternatives
SHOW VOLUMES FROM corpus_volumes.landing 'ARCH*|none';
-- expect: [["landing", "archive"]]
-- case: a new owner
ALTER VOLUME corpus_volumes.landing.raw OWNER TO `data-eng`;
-- expect-ok
-- case: DESCRIBE VOLUME (a managed volume shows no storage location)
DESCRIBE VOLUME corpus_volumes.landing.raw;
-- expect: [["raw", "corpus_volumes", "landing", "data-eng", null, "MANAGED", "raw drops"]]
-- case: COMMENT ON VOLUME
COMMENT ON VOLUME corpus_volumes.landing.raw IS 'landing zone';
-- expect-ok
DESCRIBE VOLUME corpus_volumes.landing.raw;
-- expect: [["raw", "corpus_volumes", "landing", "data-eng", null, "MANAGED", "landing zone"]]
-- case: SET OWNER TO
ALTER VOLUME corpus_volumes.landing.raw SET OWNER TO `ops@example.com`;
-- expect-ok
DESCRIBE VOLUME corpus_volumes.landing.raw;
-- expect: [["raw", "corpus_volumes", "landing", "ops@example.com", null, "MANAGED", "landing zone"]]
-- case: RENAME TO with a three-part name
ALTER VOLUME corpus_volumes.landing.archive RENAME TO corpus_volumes.landing.cold;
-- expect-ok
SHOW VOLUMES IN corpus_volumes.landing;
-- expect: [["landing", "cold"], ["landing", "raw"]]
-- case: the old name is gone
DESCRIBE VOLUME corpus_volumes.landing.archive;
-- expect-error: UC_VOLUME_NOT_FOUND
-- case: renaming onto an existing volume
ALTER VOLUME corpus_volumes.landing.cold RENAME TO raw;
-- expect-error: VOLUME_ALREADY_EXISTS
-- case: DROP VOLUME
DROP VOLUME corpus_volumes.landing.cold;
-- expect-ok
-- case: dropping it again
DROP VOLUME corpus_volumes.landing.cold;
-- expect-error: UC_VOLUME_NOT_FOUND
-- case: DROP VOLUME IF EXISTS tolerates it
DROP VOLUME IF EXISTS corpus_volumes.landing.cold;
-- expect-ok
-- case: external volumes need cloud storage
CREATE EXTERNAL VOLUME corpus_volumes.landing.ext LOCATION 's3://bucket/landing';
-- expect-error: UNSUPPORTED_FEATURE
-- case: a volume in a missing schema
CREATE VOLUME corpus_volumes.nope.raw;
-- expect-error: SCHEMA_NOT_FOUND
-- case: a schema holding a volume is not empty
DROP SCHEMA corpus_volumes.landing;
-- expect-error: SCHEMA_NOT_EMPTY
-- case: volumes in the test's own schema
SHOW VOLUMES IN {schema};
-- expect: []
CREATE VOLUME {schema}.files;
-- expect-ok
-- case: CASCADE drops the schema's volumes
DROP SCHEMA corpus_volumes.landing CASCADE;
-- expect-ok
SHOW SCHEMAS IN corpus_volumes LIKE 'landing';
-- expect: []
CREATE SCHEMA corpus_volumes.landing;
-- expect-ok
SHOW VOLUMES IN corpus_volumes.landing;
-- expect: []
-- case: clean-up
DROP CATALOG corpus_volumes CASCADE;
-- expect-ok
