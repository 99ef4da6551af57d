-- Unity Catalog SQL functions, identity functions, row filters and column masks. The local
-- user is in `admins` and `users`, not in `corpus_outsiders`. Format: see test_sql_corpus.py.
-- case: identity functions
SELECT is_account_group_member('admins'), is_member('users'), is_member('corpus_outsiders'), current_user() = session_user();
-- expect: [["true", "true", "false", "true"]]
-- case: a SQL scalar function
CREATE FUNCTION {schema}.twice(x INT) RETURNS INT COMMENT 'doubles' RETURN x * 2;
-- expect-ok
-- case: called with its three-level name
SELECT {schema}.twice(21);
-- expect: [["42"]]
-- case: the arguments are cast to the declared types
SELECT {schema}.twice('4');
-- expect: [["8"]]
-- case: a second CREATE fails
CREATE FUNCTION {schema}.twice(x INT) RETURNS INT RETURN x * 2;
-- expect-error: ROUTINE_ALREADY_EXISTS
-- case: IF NOT EXISTS tolerates it
CREATE FUNCTION IF NOT EXISTS {schema}.twice(x INT) RETURNS INT RETURN x * 3;
-- expect-ok
-- case: OR REPLACE replaces it
CREATE OR REPLACE FUNCTION {schema}.twice(x INT) RETURNS INT RETURN x + x + 0;
-- expect-ok
SELECT {schema}.twice(5);
-- expect: [["10"]]
-- case: a default parameter
CREATE FUNCTION {schema}.area(w DOUBLE, h DOUBLE DEFAULT 2) RETURNS DOUBLE RETURN w * h;
-- expect-ok
SELECT {schema}.area(3), {schema}.area(3, 4);
-- expect: [["6.0", "12.0"]]
-- case: a SQL table function
CREATE FUNCTION {schema}.squares(n INT) RETURNS TABLE (id BIGINT, sq BIGINT) RETURN SELECT id, id * id FROM range(n);
-- expect-ok
SELECT * FROM {schema}.squares(3);
-- expect: [["0", "0"], ["1", "1"], ["2", "4"]]
-- case: an unknown qualified function
SELECT {schema}.nope(1);
-- expect-error: UNRESOLVED_ROUTINE
-- case: Python UDFs are not run by the local warehouse
CREATE FUNCTION {schema}.py(x INT) RETURNS INT LANGUAGE PYTHON AS $$ return x $$;
-- expect-error: UNSUPPORTED_FEATURE
-- case: a mask for non-members and a row filter
CREATE FUNCTION {schema}.redact(s STRING) RETURNS STRING RETURN CASE WHEN is_account_group_member('corpus_outsiders') THEN s ELSE concat('***', right(s, 2)) END;
-- expect-ok
CREATE FUNCTION {schema}.only_us(region STRING) RETURNS BOOLEAN RETURN is_member('corpus_outsiders') OR region = 'US';
-- expect-ok
CREATE TABLE {schema}.people (id INT, ssn STRING, region STRING);
-- expect-ok
INSERT INTO {schema}.people VALUES (1, '111-11', 'US'), (2, '222-22', 'EU'), (3, '333-33', 'US');
-- expect-ok
ALTER TABLE {schema}.people ALTER COLUMN ssn SET MASK {schema}.redact;
-- expect-ok
ALTER TABLE {schema}.people SET ROW FILTER {schema}.only_us ON (region);
-- expect-ok
-- case: a read is filtered and masked
SELECT * FROM {schema}.people ORDER BY id;
-- expect: [["1", "***11", "US"], ["3", "***33", "US"]]
-- case: aggregates see the filtered rows only
SELECT count(*), count(DISTINCT region) FROM {schema}.people;
-- expect: [["2", "1"]]
-- case: a self-join reads the filtered projection on both sides
SELECT a.id, b.ssn FROM {schema}.people a JOIN {schema}.people b ON a.id = b.id ORDER BY a.id;
-- expect: [["1", "***11"], ["3", "***33"]]
-- case: a view over the table is masked when read
CREATE VIEW {schema}.v AS SELECT ssn FROM {schema}.people;
-- expect-ok
SELECT * FROM {schema}.v ORDER BY ssn;
-- expect: [["***11"], ["***33"]]
-- case: UPDATE changes only visible rows
UPDATE {schema}.people SET region = region;
-- expect: [["2"]]
-- case: an unknown filter function
ALTER TABLE {schema}.people SET ROW FILTER {schema}.missing ON (region);
-- expect-error: ROUTINE_NOT_FOUND
-- case: dropping the filter and the mask
ALTER TABLE {schema}.people DROP ROW FILTER;
-- expect-ok
ALTER TABLE {schema}.people ALTER COLUMN ssn DROP MASK;
-- expect-ok
SELECT * FROM {schema}.people ORDER BY id;
-- expect: [["1", "111-11", "US"], ["2", "222-22", "EU"], ["3", "333-33", "US"]]
-- case: a mask that reads another column (USING COLUMNS)
CREATE FUNCTION {schema}.by_region(s STRING, region STRING) RETURNS STRING RETURN CASE WHEN region = 'US' THEN s ELSE 'hidden' END;
-- expect-ok
ALTER TABLE {schema}.people ALTER COLUMN ssn SET MASK {schema}.by_region USING COLUMNS (region);
-- expect-ok
SELECT id, ssn FROM {schema}.people ORDER BY id;
-- expect: [["1", "111-11"], ["2", "hidden"], ["3", "333-33"]]
-- case: a filter function takes as many columns as it has parameters
ALTER TABLE {schema}.people SET ROW FILTER {schema}.by_region ON (region);
-- expect-error: WRONG_NUM_ARGS
-- case: MERGE changes only rows the filter shows
ALTER TABLE {schema}.people SET ROW FILTER {schema}.only_us ON (region);
-- expect-ok
CREATE TABLE {schema}.changes (id INT, ssn STRING);
-- expect-ok
INSERT INTO {schema}.changes VALUES (1, '999-99'), (2, '888-88'), (4, '444-44');
-- expect-ok
MERGE INTO {schema}.people AS t USING {schema}.changes AS c ON t.id = c.id WHEN MATCHED THEN UPDATE SET ssn = c.ssn WHEN NOT MATCHED THEN INSERT (id, ssn, region) VALUES (c.id, c.ssn, 'US');
-- expect-ok
ALTER TABLE {schema}.people DROP ROW FILTER;
-- expect-ok
ALTER TABLE {schema}.people ALTER COLUMN ssn DROP MASK;
-- expect-ok
SELECT id, ssn FROM {schema}.people ORDER BY id;
-- expect: [["1", "999-99"], ["2", "222-22"], ["3", "333-33"], ["4", "444-44"]]
-- case: MASK and WITH ROW FILTER in CREATE TABLE
CREATE TABLE {schema}.t (n INT, secret STRING MASK {schema}.redact) WITH ROW FILTER {schema}.only_us ON (secret);
-- expect-ok
INSERT INTO {schema}.t VALUES (1, 'US'), (2, 'EU');
-- expect-ok
SELECT * FROM {schema}.t;
-- expect: [["1", "***US"]]
-- case: DROP FUNCTION
DROP FUNCTION {schema}.twice;
-- expect-ok
DROP FUNCTION {schema}.twice;
-- expect-error: ROUTINE_NOT_FOUND
DROP FUNCTION IF EXISTS {schema}.twice;
-- expect-ok
-- case: columns qualified with the schema still read the masked projection
CREATE FUNCTION {schema}.star(s STRING) RETURNS STRING RETURN '*';
-- expect-ok
ALTER TABLE {schema}.people ALTER COLUMN ssn SET MASK {schema}.star;
-- expect-ok
SELECT people.ssn, t.id FROM {schema}.people JOIN {schema}.people AS t USING (id) ORDER BY t.id LIMIT 1;
-- expect: [["*", "1"]]
