/* sqlq DB SQL: runs one query on an SQLite file opened read-only (beside a
 * running server) and prints the first column of each row, one a line. For
 * the scripted tests, which read what a store holds (the center's sealed
 * payloads) without the sqlite3 shell. Exit 1 on any error. */
#include <sqlite3.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: sqlq DB SQL\n");
        return 2;
    }
    rc = sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, argv[2], -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);

        printf("%s\n", v != NULL ? (const char *)v : "");
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        fprintf(stderr, "sqlq: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? 0 : 1;
}
