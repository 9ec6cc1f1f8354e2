#!/usr/bin/env bash
# Copies a benchmark data set built on SQLite into an empty PostgreSQL database, so the
# scenarios can run on PostgreSQL at the full sizes: building them there through Accord's
# write path takes hours (about 450 contacts/s on this machine), a copy minutes.
#
#   bench/sqlite-to-postgres.sh /tmp/accord-bench/accord.db postgres://postgres@127.0.0.1:5432/bench_full
#   target/release/accord-bench --database-url postgres://postgres@127.0.0.1:5432/bench_full --data-dir /tmp/accord-bench-pg
#
# Both engines have the same tables and columns (the same migrations); the PostgreSQL
# schema is made by `accord migrate`. Secondary indexes are dropped during the copy and
# made again after it, identity sequences continue after the copied ids, and the search
# documents' own columns that PostgreSQL derives are left to it.
set -euo pipefail
sqlite_db=${1:?SQLite database file}
url=${2:?PostgreSQL URL of an empty database}
bin=${ACCORD_BIN:-target/release/accord}

"$bin" migrate --database-url "$url" >/dev/null
psql=(psql -X -q -v ON_ERROR_STOP=1 "$url")

# Every index but the primary keys and unique constraints: dropped now, made again at the end.
secondary="FROM pg_indexes i WHERE schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
indexes=$("${psql[@]}" -At -c "SELECT indexdef $secondary")
"${psql[@]}" -At -c "SELECT 'DROP INDEX \"' || indexname || '\";' $secondary" | "${psql[@]}"

# Tables a fresh schema fills itself (the migrations' own rows) are emptied first; tables
# referenced by others come first (the order of the migrations' CREATE TABLEs).
tables=$("${psql[@]}" -At -c "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.oid")
"${psql[@]}" -c "SET session_replication_role = replica; TRUNCATE $(echo $tables | tr ' ' ',') CASCADE"
for t in $tables; do
    exists=$(sqlite3 "$sqlite_db" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '$t'")
    [ "$exists" = 1 ] || continue
    # The columns both have, minus those PostgreSQL generates.
    pg_cols=$("${psql[@]}" -At -c "SELECT column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = '$t' AND is_generated = 'NEVER' ORDER BY ordinal_position")
    lite_cols=$(sqlite3 "$sqlite_db" "SELECT name FROM pragma_table_info('$t')")
    cols=$(comm -12 <(echo "$pg_cols" | sort) <(echo "$lite_cols" | sort) | paste -sd, -)
    started=$(date +%s)
    copied=$(sqlite3 -csv -noheader -cmd ".nullvalue '\\N'" "$sqlite_db" "SELECT $cols FROM $t" |
        psql -X -v ON_ERROR_STOP=1 "$url" -c "SET session_replication_role = replica" -c "COPY $t ($cols) FROM STDIN WITH (FORMAT csv, NULL '\N')" | awk '/^COPY/ { print $2 }')
    echo "$t: $copied rows in $(($(date +%s) - started)) s"
done

started=$(date +%s)
{ echo "SET maintenance_work_mem = '1GB';"; echo "$indexes" | sed 's/$/;/'; } | "${psql[@]}"
"${psql[@]}" -At -c "SELECT 'SELECT setval(''' || pg_get_serial_sequence(table_name, column_name) || ''', (SELECT COALESCE(MAX(' || column_name || '), 0) + 1 FROM ' || table_name || '), false);'
    FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES'" | "${psql[@]}" -At >/dev/null
"${psql[@]}" -c "VACUUM ANALYZE"
echo "indexes, sequences and statistics in $(($(date +%s) - started)) s"
