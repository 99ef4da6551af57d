-- Delta Sharing and the cloud-only Unity Catalog objects. The format: see tests/test_sql_corpus.py.
-- Share and recipient names are metastore-wide: these are the corpus's own.
-- case: a table to share
CREATE TABLE {schema}.orders AS SELECT 1 AS id, 'open' AS status;
-- expect-ok
-- case: create a share
CREATE SHARE corpus_orders_share COMMENT 'orders for partners';
-- expect-ok
-- case: IF NOT EXISTS on an existing share does nothing
CREATE SHARE IF NOT EXISTS corpus_orders_share;
-- expect-ok
-- case: a second create fails
CREATE SHARE corpus_orders_share;
-- expect-error: SHARE_ALREADY_EXISTS
-- case: SHOW SHARES with a pattern
SHOW SHARES LIKE 'corpus_orders*';
-- expect-ok
-- case: add the table under an alias
ALTER SHARE corpus_orders_share ADD TABLE {schema}.orders COMMENT 'all orders' AS sales.orders;
-- expect-ok
-- case: adding it again fails
ALTER SHARE corpus_orders_share ADD TABLE {schema}.orders;
-- expect-error: RESOURCE_ALREADY_EXISTS
-- case: a table that does not exist cannot be shared
ALTER SHARE corpus_orders_share ADD TABLE {schema}.missing;
-- expect-error: TABLE_OR_VIEW_NOT_FOUND
-- case: a recipient
CREATE RECIPIENT corpus_partner COMMENT 'a partner';
-- expect-ok
-- case: grant the share to the recipient
GRANT SELECT ON SHARE corpus_orders_share TO RECIPIENT corpus_partner;
-- expect-ok
-- case: the share's grants
SHOW GRANTS ON SHARE corpus_orders_share;
-- expect: [["corpus_partner", "SELECT"]]
-- case: the recipient's grants
SHOW GRANTS TO RECIPIENT corpus_partner;
-- expect: [["corpus_orders_share", "SELECT"]]
-- case: only SELECT applies to a share
GRANT MODIFY ON SHARE corpus_orders_share TO RECIPIENT corpus_partner;
-- expect-error: INVALID_PARAMETER_VALUE
-- case: revoke
REVOKE SELECT ON SHARE corpus_orders_share FROM RECIPIENT corpus_partner;
-- expect-ok
-- case: no grant left
SHOW GRANTS ON SHARE corpus_orders_share;
-- expect: []
-- case: remove the table
ALTER SHARE corpus_orders_share REMOVE TABLE {schema}.orders;
-- expect-ok
-- case: drop the recipient
DROP RECIPIENT corpus_partner;
-- expect-ok
-- case: drop the share
DROP SHARE corpus_orders_share;
-- expect-ok
-- case: dropping it again fails
DROP SHARE corpus_orders_share;
-- expect-error: SHARE_DOES_NOT_EXIST
-- case: IF EXISTS tolerates it
DROP SHARE IF EXISTS corpus_orders_share;
-- expect-ok
-- case: no storage credential in a workspace without cloud storage
SHOW STORAGE CREDENTIALS;
-- expect: []
-- case: no external location
SHOW EXTERNAL LOCATIONS;
-- expect: []
-- case: no connection
SHOW CONNECTIONS;
-- expect: []
-- case: an external location cannot be created
CREATE EXTERNAL LOCATION corpus_landing URL 's3://bucket/landing' WITH (STORAGE CREDENTIAL c);
-- expect-error: UNSUPPORTED_FEATURE
