-- The corpus format: see tests/test_sql_corpus.py.
-- case: a table in the test's own schema
CREATE TABLE {schema}.t (id BIGINT, name STRING);
-- expect-ok
INSERT INTO {schema}.t VALUES (1, 'a'), (2, 'b');
-- expect-ok
-- case: rows come back as strings
SELECT id, name FROM {schema}.t ORDER BY id;
-- expect: [["1", "a"], ["2", "b"]]
-- case: an unknown table
SELECT * FROM {schema}.missing;
-- expect-error: TABLE_OR_VIEW_NOT_FOUND
