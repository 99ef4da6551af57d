-- Databricks built-in functions, with the results Databricks gives (docs.databricks.com,
-- "Built-in functions"). Format: see tests/test_sql_corpus.py.
-- case: range(n) is a table with one BIGINT column id
SELECT id FROM range(3);
-- expect: [["0"], ["1"], ["2"]]
-- case: range(start, end, step)
SELECT id FROM range(0, 10, 4);
-- expect: [["0"], ["4"], ["8"]]
-- case: range with an alias
SELECT sum(r.id) FROM range(1, 11) AS r;
-- expect: [["55"]]
-- case: histogram_numeric merges the closest bins
SELECT histogram_numeric(x, 2) FROM VALUES (1), (2), (3), (10) AS t(x);
-- expect: [["[{\"x\":2.0,\"y\":3.0},{\"x\":10.0,\"y\":1.0}]"]]
-- case: histogram_numeric with room for every value
SELECT histogram_numeric(x, 5) FROM VALUES (1), (2), (2), (10) AS t(x);
-- expect: [["[{\"x\":1.0,\"y\":1.0},{\"x\":2.0,\"y\":2.0},{\"x\":10.0,\"y\":1.0}]"]]
-- case: approx_percentile returns a value of the input
SELECT approx_percentile(x, 0.5), percentile_approx(x, array(0.25, 0.75)) FROM VALUES (1), (2), (3), (10) AS t(x);
-- expect: [["2", "[1,3]"]]
-- case: percentile interpolates
SELECT percentile(x, 0.5), percentile(x, array(0.25, 0.5)) FROM VALUES (1), (2), (3), (10) AS t(x);
-- expect: [["2.5", "[1.75,2.5]"]]
-- case: median and mode
SELECT median(x), mode(x) FROM VALUES (1), (2), (2), (10) AS t(x);
-- expect: [["2.0", "2"]]
-- case: approx_count_distinct
SELECT approx_count_distinct(x) FROM VALUES (1), (2), (2), (3) AS t(x);
-- expect: [["3"]]
-- case: collect_list, collect_set, array_agg
SELECT sort_array(collect_list(x)), sort_array(collect_set(x)), size(array_agg(x)) FROM VALUES (2), (1), (2) AS t(x);
-- expect: [["[1,2,2]", "[1,2]", "3"]]
-- case: count_if and any_value
SELECT count_if(x > 1), any_value(y) FROM VALUES (1, 'a'), (2, 'a'), (3, 'a') AS t(x, y);
-- expect: [["2", "a"]]
-- case: first and last ignoring nulls
SELECT first(x, true), last(x, true) FROM (SELECT x FROM VALUES (1, NULL), (2, 5), (3, 7), (4, NULL) AS t(k, x) ORDER BY k);
-- expect: [["5", "7"]]
-- case: max_by and min_by
SELECT max_by(x, y), min_by(x, y) FROM VALUES ('a', 1), ('b', 3), ('c', 2) AS t(x, y);
-- expect: [["b", "a"]]
-- case: try_divide
SELECT try_divide(1, 0), try_divide(3, 2);
-- expect: [[null, "1.5"]]
-- case: division by zero fails under ANSI mode
SELECT 1 / 0;
-- expect-error: DIVIDE_BY_ZERO
-- case: try_add overflows to NULL
SELECT try_add(2147483647, 1), try_multiply(2, 3), try_subtract(5, 7);
-- expect: [[null, "6", "-2"]]
-- case: nvl and nvl2
SELECT nvl(NULL, 1), nvl2(NULL, 1, 2), nvl2(0, 1, 2);
-- expect: [["1", "2", "1"]]
-- case: date_format with Spark patterns
SELECT date_format(DATE'2024-03-05', 'yyyy-MM-dd'), date_format(TIMESTAMP'2024-03-05 14:07:09', 'dd/MM/yyyy HH:mm:ss');
-- expect: [["2024-03-05", "05/03/2024 14:07:09"]]
-- case: date_format with month and day names
SELECT date_format(TIMESTAMP'2024-03-05 14:07:09', 'MMM d, yyyy h:mm a'), date_format(DATE'2024-03-05', 'EEEE');
-- expect: [["Mar 5, 2024 2:07 PM", "Tuesday"]]
-- case: to_date with a pattern
SELECT to_date('05/03/2024', 'dd/MM/yyyy'), to_date('2024-03-05');
-- expect: [["2024-03-05", "2024-03-05"]]
-- case: to_timestamp with a pattern
SELECT to_timestamp('2024-03-05 14:07:09'), to_timestamp('05/03/2024 14:07', 'dd/MM/yyyy HH:mm');
-- expect: [["2024-03-05T14:07:09.000Z", "2024-03-05T14:07:00.000Z"]]
-- case: date_add, date_sub and datediff are dates and days
SELECT date_add(DATE'2024-02-28', 2), date_sub(DATE'2024-03-01', 1), datediff(DATE'2024-03-05', DATE'2024-02-28');
-- expect: [["2024-03-01", "2024-02-29", "6"]]
-- case: add_months, last_day, months_between
SELECT add_months(DATE'2024-01-31', 1), last_day(DATE'2024-02-10'), months_between(DATE'2024-03-01', DATE'2024-01-01');
-- expect: [["2024-02-29", "2024-02-29", "2.0"]]
-- case: date parts; dayofweek counts from Sunday = 1
SELECT year(DATE'2024-03-05'), month(DATE'2024-03-05'), dayofweek(DATE'2024-03-05'), weekofyear(DATE'2024-03-05');
-- expect: [["2024", "3", "3", "10"]]
-- case: trunc and date_trunc
SELECT trunc(DATE'2024-03-05', 'MM'), trunc(DATE'2024-03-05', 'YEAR'), date_trunc('MONTH', TIMESTAMP'2024-03-05 10:00:00');
-- expect: [["2024-03-01", "2024-01-01", "2024-03-01T00:00:00.000Z"]]
-- case: unix_timestamp is a BIGINT; from_unixtime a string
SELECT unix_timestamp('2024-01-01 00:00:00'), to_unix_timestamp(TIMESTAMP'1970-01-02 00:00:00'), from_unixtime(0);
-- expect: [["1704067200", "86400", "1970-01-01 00:00:00"]]
-- case: explode in the select list
SELECT explode(array(1, 2, 3));
-- expect: [["1"], ["2"], ["3"]]
-- case: explode beside other columns
SELECT x, explode(y) FROM VALUES (1, array(10, 20)) AS t(x, y);
-- expect: [["1", "10"], ["1", "20"]]
-- case: posexplode
SELECT posexplode(array('a', 'b'));
-- expect: [["0", "a"], ["1", "b"]]
-- case: inline in the select list and as a table
SELECT * FROM inline(array(struct(1, 'a'), struct(2, 'b')));
-- expect: [["1", "a"], ["2", "b"]]
-- case: sequence
SELECT sequence(1, 5), sequence(1, 9, 4);
-- expect: [["[1,2,3,4,5]", "[1,5,9]"]]
-- case: array_contains and element_at (1-based, negative from the end)
SELECT array_contains(array(1, 2), 2), element_at(array(10, 20), 1), element_at(array(1, 2, 3), -1), element_at(map('a', 1), 'a');
-- expect: [["true", "10", "3", "1"]]
-- case: array subscripts are 0-based
SELECT array(1, 2)[0], map('a', 1)['a'];
-- expect: [["1", "1"]]
-- case: array_distinct keeps first occurrences in order
SELECT array_distinct(array(3, 1, 3, 2, 1)), array_union(array(1, 2), array(2, 3));
-- expect: [["[3,1,2]", "[1,2,3]"]]
-- case: get_json_object
SELECT get_json_object('{"a": {"b": 7}}', '$.a.b'), get_json_object('{"a": [1, 2]}', '$.a[1]');
-- expect: [["7", "2"]]
-- case: from_json with a DDL schema, to_json of a struct
SELECT from_json('{"a": 1, "b": "x"}', 'a INT, b STRING'), to_json(named_struct('a', 1, 'b', 'x'));
-- expect: [["{\"a\":1,\"b\":\"x\"}", "{\"a\":1,\"b\":\"x\"}"]]
-- case: regexp_extract
SELECT regexp_extract('abc-123', '([a-z]+)-(\\d+)', 2), regexp_extract('abc-123', '([a-z]+)-(\\d+)');
-- expect: [["123", "abc"]]
-- case: split and concat_ws (NULLs skipped)
SELECT split('a,b,c', ','), concat_ws('-', 'a', 'b', NULL, 'c');
-- expect: [["[\"a\",\"b\",\"c\"]", "a-b-c"]]
-- case: sha2, md5, sha1
SELECT sha2('abc', 256), md5('abc'), sha1('abc');
-- expect: [["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "900150983cd24fb0d6963f7d28e17f72", "a9993e364706816aba3e25717850c26c9cd0d89d"]]
-- case: uuid() is a 36-character string
SELECT length(uuid());
-- expect: [["36"]]
-- case: struct and named_struct
SELECT struct(1, 'a'), named_struct('x', 1, 'y', 'b');
-- expect: [["{\"col1\":1,\"col2\":\"a\"}", "{\"x\":1,\"y\":\"b\"}"]]
-- case: map functions
SELECT map('a', 1, 'b', 2), map_keys(map('a', 1)), map_values(map('a', 1)), map_from_arrays(array('a'), array(1));
-- expect: [["{\"a\":1,\"b\":2}", "[\"a\"]", "[1]", "{\"a\":1}"]]
-- case: higher-order functions
SELECT transform(array(1, 2), x -> x * 2), filter(array(1, 2, 3), x -> x > 1), aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x);
-- expect: [["[2,4]", "[2,3]", "6"]]
-- case: round is HALF_UP, bround HALF_EVEN
SELECT round(2.5), round(-2.5), bround(2.5), bround(3.5);
-- expect: [["3", "-3", "2", "4"]]
-- case: pmod is never negative
SELECT pmod(-7, 3), mod(-7, 3);
-- expect: [["2", "-1"]]
-- case: format_number and format_string
SELECT format_number(1234567.891, 2), format_string('%s-%d', 'a', 3);
-- expect: [["1,234,567.89", "a-3"]]
-- case: string functions
SELECT initcap('hello world'), reverse('abc'), translate('abc', 'b', 'x'), lpad('7', 3, '0'), instr('hello', 'l');
-- expect: [["Hello World", "cba", "axc", "007", "3"]]
-- case: statistics
SELECT stddev(x), variance(x) FROM VALUES (1), (2), (3) AS t(x);
-- expect: [["1.0", "1.0"]]
-- case: window ranking functions
SELECT x, cume_dist() OVER (ORDER BY x), ntile(2) OVER (ORDER BY x) FROM VALUES (1), (2), (3) AS t(x) ORDER BY x;
-- expect: [["1", "0.3333333333333333", "1"], ["2", "0.6666666666666666", "1"], ["3", "1.0", "2"]]
-- case: try_cast and decimals
SELECT try_cast('x' AS INT), cast('1.5' AS DECIMAL(4, 2));
-- expect: [[null, "1.50"]]
-- case: typeof names Databricks types
SELECT typeof(1), typeof('a'), typeof(1.5), typeof(array(1)), typeof(1L), typeof(1.5D), typeof(NULL);
-- expect: [["int", "string", "decimal(2,1)", "array<int>", "bigint", "double", "void"]]
-- case: typeof of dates, timestamps and nested arrays
SELECT typeof(DATE'2024-01-01'), typeof(TIMESTAMP'2024-01-01 00:00:00'), typeof(array(array('a')));
-- expect: [["date", "timestamp", "array<array<string>>"]]
