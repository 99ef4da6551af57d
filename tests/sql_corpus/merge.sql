-- The corpus format: see tests/test_sql_corpus.py.
-- MERGE's UPDATE SET * and INSERT * pair columns BY NAME, as Databricks does.
-- case: a target table
CREATE TABLE {schema}.tgt (id INT, a STRING, b STRING);
-- expect-ok
INSERT INTO {schema}.tgt VALUES (1, 'a0', 'b0');
-- expect-ok
-- case: UPDATE SET * and INSERT * take each source column by name, not by position
MERGE INTO {schema}.tgt USING (SELECT * FROM VALUES (1, 'B1', 'A1'), (2, 'B2', 'A2') AS v(id, b, a)) s
ON tgt.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
-- expect: [["2"]]
SELECT id, a, b FROM {schema}.tgt ORDER BY id;
-- expect: [["1", "A1", "B1"], ["2", "A2", "B2"]]
-- case: extra source columns are ignored; a source table (not a subquery) works too
CREATE TABLE {schema}.src AS SELECT 'X3' AS extra, 'B3' AS b, 3 AS id, 'A3' AS a;
-- expect-ok
MERGE INTO {schema}.tgt t USING {schema}.src ON t.id = src.id
WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
-- expect: [["1"]]
SELECT id, a, b FROM {schema}.tgt WHERE id = 3;
-- expect: [["3", "A3", "B3"]]
-- case: a target column the source lacks fails UPDATE SET * as Databricks does
MERGE INTO {schema}.tgt USING (SELECT 1 AS id, 'A9' AS a) s ON tgt.id = s.id
WHEN MATCHED THEN UPDATE SET *;
-- expect-error: [DELTA_MERGE_UNRESOLVED_EXPRESSION] Cannot resolve b in UPDATE clause given columns s.id, s.a.
-- case: ... and INSERT *
MERGE INTO {schema}.tgt USING (SELECT 9 AS id, 'A9' AS a) s ON tgt.id = s.id
WHEN NOT MATCHED THEN INSERT *;
-- expect-error: Cannot resolve b in INSERT clause given columns s.id, s.a.
-- case: NOT MATCHED BY SOURCE clauses keep working beside the stars
MERGE INTO {schema}.tgt USING (SELECT 'A1x' AS a, 1 AS id, 'B1x' AS b) s ON tgt.id = s.id
WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED BY SOURCE AND tgt.id = 2 THEN DELETE
WHEN NOT MATCHED BY SOURCE THEN UPDATE SET b = 'gone';
-- expect: [["3"]]
SELECT id, a, b FROM {schema}.tgt ORDER BY id;
-- expect: [["1", "A1x", "B1x"], ["3", "A3", "gone"]]
-- case: UPDATE SET * has no source row to read in NOT MATCHED BY SOURCE
MERGE INTO {schema}.tgt USING {schema}.src ON tgt.id = src.id
WHEN NOT MATCHED BY SOURCE THEN UPDATE SET *;
-- expect-error: [PARSE_SYNTAX_ERROR] Syntax error at or near '*'
-- case: WITH SCHEMA EVOLUTION: a target column the source lacks is kept (UPDATE) or NULL (INSERT)
MERGE WITH SCHEMA EVOLUTION INTO {schema}.tgt USING (SELECT * FROM VALUES (1, 'A1y'), (4, 'A4') AS v(id, a)) s
ON tgt.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
-- expect: [["2"]]
SELECT id, a, b FROM {schema}.tgt ORDER BY id;
-- expect: [["1", "A1y", "B1x"], ["3", "A3", "gone"], ["4", "A4", null]]
-- case: WITH SCHEMA EVOLUTION adding the source's new columns is refused plainly
MERGE WITH SCHEMA EVOLUTION INTO {schema}.tgt USING {schema}.src ON tgt.id = src.id
WHEN MATCHED THEN UPDATE SET *;
-- expect-error: UNSUPPORTED_FEATURE
