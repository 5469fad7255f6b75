/* sqlq [-w] DB SQL: runs one statement on an SQLite file and prints the
 * first column of each row, one a line. For the scripted tests, which read
 * what a store holds (the center's sealed payloads) without the sqlite3
 * shell. Read-only, beside a running server; with -w read-write, waiting up
 * to 5 s for the server's writer (to set up a row as an older version left
 * it). Exit 1 on any error. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rw = argc == 4 && strcmp(argv[1], "-w") == 0, rc;

    if (argc != 3 + rw) {
        fprintf(stderr, "usage: sqlq [-w] DB SQL\n");
        return 2;
    }
    rc =
        sqlite3_open_v2(argv[1 + rw], &db, rw ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, argv[2 + rw], -1, &st, NULL);
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
