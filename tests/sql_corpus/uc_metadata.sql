-- Unity Catalog metadata in SQL: tags, comments, information_schema, DESCRIBE, SHOW CREATE.
-- The corpus format: see tests/test_sql_corpus.py. Table names are unique to this file
-- (ucm_*) because information_schema sees every schema of the catalog.
-- case: a table with a NOT NULL column, comments and properties
CREATE TABLE {schema}.ucm_people (id BIGINT NOT NULL COMMENT 'person id', name STRING, email STRING) COMMENT 'people' TBLPROPERTIES ('quality' = 'gold');
-- expect-ok
INSERT INTO {schema}.ucm_people VALUES (1, 'ann', 'a@x.org'), (2, 'bob', 'b@x.org');
-- expect: [["2", "2"]]
-- case: a column comment from CREATE TABLE shows in DESCRIBE
DESCRIBE TABLE {schema}.ucm_people;
-- expect: [["id", "bigint", "person id"], ["name", "string", null], ["email", "string", null]]
-- case: table tags, with and without a value
ALTER TABLE {schema}.ucm_people SET TAGS ('domain' = 'hr', 'certified');
-- expect-ok
SELECT tag_name, tag_value FROM main.information_schema.table_tags WHERE table_name = 'ucm_people' ORDER BY tag_name;
-- expect: [["certified", ""], ["domain", "hr"]]
-- case: setting a tag again replaces its value
ALTER TABLE {schema}.ucm_people SET TAGS ('domain' = 'people');
-- expect-ok
SELECT tag_value FROM main.information_schema.table_tags WHERE table_name = 'ucm_people' AND tag_name = 'domain';
-- expect: [["people"]]
-- case: column tags through ALTER COLUMN and SET TAG ON COLUMN
ALTER TABLE {schema}.ucm_people ALTER COLUMN email SET TAGS ('pii' = 'email');
-- expect-ok
SET TAG ON COLUMN {schema}.ucm_people.name pii = name;
-- expect-ok
SELECT column_name, tag_name, tag_value FROM main.information_schema.column_tags WHERE table_name = 'ucm_people' ORDER BY column_name;
-- expect: [["email", "pii", "email"], ["name", "pii", "name"]]
-- case: UNSET TAGS and UNSET TAG ON
ALTER TABLE {schema}.ucm_people UNSET TAGS ('certified');
-- expect-ok
UNSET TAG ON COLUMN {schema}.ucm_people.name pii;
-- expect-ok
SELECT count(*) FROM main.information_schema.column_tags WHERE table_name = 'ucm_people';
-- expect: [["1"]]
-- case: UNSET TAG ON a tag that is not set fails
UNSET TAG ON COLUMN {schema}.ucm_people.name pii;
-- expect-error: INVALID_PARAMETER_VALUE
-- case: a tag on a column the table lacks
ALTER TABLE {schema}.ucm_people ALTER COLUMN phone SET TAGS ('pii' = 'phone');
-- expect-error: UNRESOLVED_COLUMN
-- case: a tag key with a character tags refuse
ALTER TABLE {schema}.ucm_people SET TAGS ('a.b' = 'x');
-- expect-error: INVALID_PARAMETER_VALUE
-- case: schema tags in the system information schema
ALTER SCHEMA {schema} SET TAGS ('layer' = 'silver');
-- expect-ok
SELECT tag_name, tag_value FROM system.information_schema.schema_tags WHERE schema_name LIKE 'corpus_uc_metadata_%';
-- expect: [["layer", "silver"]]
-- case: column comments through ALTER COLUMN and COMMENT ON COLUMN
ALTER TABLE {schema}.ucm_people ALTER COLUMN name COMMENT 'full name';
-- expect-ok
COMMENT ON COLUMN {schema}.ucm_people.email IS 'work email';
-- expect-ok
DESCRIBE TABLE {schema}.ucm_people;
-- expect: [["id", "bigint", "person id"], ["name", "string", "full name"], ["email", "string", "work email"]]
-- case: COMMENT ON TABLE shows in information_schema.tables
COMMENT ON TABLE {schema}.ucm_people IS 'staff';
-- expect-ok
SELECT table_type, comment, data_source_format, is_insertable_into FROM main.information_schema.tables WHERE table_name = 'ucm_people';
-- expect: [["MANAGED", "staff", "DELTA", "YES"]]
-- case: information_schema.columns with Databricks' type columns
SELECT column_name, ordinal_position, is_nullable, full_data_type, data_type, numeric_precision, comment FROM main.information_schema.columns WHERE table_name = 'ucm_people' ORDER BY ordinal_position;
-- expect: [["id", "1", "NO", "bigint", "LONG", "64", "person id"], ["name", "2", "YES", "string", "STRING", null, "full name"], ["email", "3", "YES", "string", "STRING", null, "work email"]]
-- case: decimal precision and scale
CREATE TABLE {schema}.ucm_prices (sku STRING, price DECIMAL(10,2));
-- expect-ok
SELECT numeric_precision, numeric_precision_radix, numeric_scale FROM main.information_schema.columns WHERE table_name = 'ucm_prices' AND column_name = 'price';
-- expect: [["10", "10", "2"]]
-- case: views in information_schema.views
CREATE VIEW {schema}.ucm_people_v AS SELECT id, name FROM {schema}.ucm_people;
-- expect-ok
SELECT table_name, check_option, is_updatable FROM main.information_schema.views WHERE table_name = 'ucm_people_v';
-- expect: [["ucm_people_v", "NONE", "NO"]]
SELECT table_name, table_type FROM main.information_schema.tables WHERE table_name LIKE 'ucm_%' ORDER BY table_name;
-- expect: [["ucm_people", "MANAGED"], ["ucm_people_v", "VIEW"], ["ucm_prices", "MANAGED"]]
-- case: table privileges
GRANT SELECT ON TABLE {schema}.ucm_people TO `ucm-analysts`;
-- expect-ok
SELECT grantee, privilege_type, is_grantable FROM main.information_schema.table_privileges WHERE table_name = 'ucm_people';
-- expect: [["ucm-analysts", "SELECT", "NO"]]
-- case: an information_schema relation that does not exist
SELECT * FROM main.information_schema.no_such_view;
-- expect-error: TABLE_OR_VIEW_NOT_FOUND
-- case: DESCRIBE QUERY
DESCRIBE QUERY SELECT id, upper(name) AS shout, 1.5 AS x FROM {schema}.ucm_people;
-- expect: [["id", "bigint", null], ["shout", "string", null], ["x", "decimal(2,1)", null]]
-- case: SHOW CREATE TABLE runs
SHOW CREATE TABLE {schema}.ucm_people;
-- expect-ok
-- case: DESCRIBE HISTORY of a view is refused
DESCRIBE HISTORY {schema}.ucm_people_v;
-- expect-error: EXPECT_TABLE_NOT_VIEW
-- case: DESCRIBE HISTORY LIMIT 0
DESCRIBE HISTORY {schema}.ucm_people LIMIT 0;
-- expect: []
-- case: DESCRIBE SCHEMA / CATALOG of missing objects
DESCRIBE SCHEMA EXTENDED main.ucm_no_such_schema;
-- expect-error: SCHEMA_NOT_FOUND
DESCRIBE CATALOG ucm_no_such_catalog;
-- expect-error: NO_SUCH_CATALOG_EXCEPTION
-- case: the information schema lists its relations and describes them
SHOW TABLES IN main.information_schema LIKE 'table_*';
-- expect: [["information_schema", "table_privileges", "false"], ["information_schema", "table_tags", "false"]]
DESCRIBE TABLE main.information_schema.schema_tags;
-- expect: [["catalog_name", "string", null], ["schema_name", "string", null], ["tag_name", "string", null], ["tag_value", "string", null]]
-- case: ADD COLUMN is a version of the table's history
ALTER TABLE {schema}.ucm_prices ADD COLUMN currency STRING;
-- expect-ok
DESCRIBE HISTORY {schema}.ucm_prices LIMIT 1;
-- expect-ok
-- case: ALTER ... OWNER TO shows in information_schema
ALTER TABLE {schema}.ucm_prices OWNER TO `ucm-owners`;
-- expect-ok
SELECT table_owner FROM main.information_schema.tables WHERE table_name = 'ucm_prices';
-- expect: [["ucm-owners"]]
ALTER SCHEMA {schema} SET OWNER TO `ucm-owners`;
-- expect-ok
SELECT count(*) FROM main.information_schema.schemata WHERE schema_name LIKE 'corpus_uc_metadata_%' AND schema_owner = 'ucm-owners';
-- expect: [["1"]]
