/* repack: makes the packages a center should never send, for the room's
 * fetch tests, from a real one and the center's own key.
 *
 *   repack pkg CENTER_DIR ROOM_DIR IN OUT [-NAME | NAME=FILE]...
 *       IN's room sections (room key alone), minus each -NAME, with NAME's
 *       plaintext taken from FILE, signed again by the center's key and
 *       wrapped to the room's, same plan, room, version and expiry; no
 *       session and so no paper. Prints the new package id (hex).
 *   repack cat CENTER_DIR ROOM_DIR IN NAME
 *       prints IN's room section NAME.
 *   repack sql DB SQL
 *       runs SQL (read-write) on an SQLite file, printing the first column
 *       of each row: a center's records changed the way a center's engineer
 *       could change them. */
#include "crypto.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int to_file(void *arg, const uint8_t *data, size_t n)
{
    return fwrite(data, 1, n, arg) == n ? 0 : ER_IO;
}

static int open_in(const char *center_dir, const char *room_dir, const char *in,
                   struct key **center, struct key **room, struct pkg_reader **rd)
{
    char path[4096];
    struct key *pub = NULL;
    struct pkg_trust t = {0};
    int rc;

    snprintf(path, sizeof(path), "%s/center-key.pem", center_dir);
    rc = key_load_private(KEY_ED25519, path, center);
    snprintf(path, sizeof(path), "%s/room-wrap.pem", room_dir);
    if (rc == 0)
        rc = key_load_private(KEY_X25519, path, room);
    snprintf(path, sizeof(path), "%s/center-key.pub", center_dir);
    if (rc == 0)
        rc = key_parse_public(KEY_ED25519, path, &pub);
    t = (struct pkg_trust){pub, *room, 0, (int64_t)time(NULL)};
    if (rc == 0)
        rc = pkg_open(in, &t, rd);
    key_free(pub);
    return rc;
}

static int copy_section(struct pkg_writer *w, struct pkg_reader *rd, const char *name,
                        const char *from, const char *tmp)
{
    FILE *f = fopen(from != NULL ? from : tmp, from != NULL ? "rb" : "w+b");
    char buf[65536];
    size_t n;
    int rc = f == NULL ? ER_IO : 0;

    if (rc == 0 && from == NULL) {
        rc = pkg_read(rd, name, NULL, to_file, f);
        rewind(f);
    }
    if (rc == 0)
        rc = pkg_writer_begin(w, name, NULL);
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        rc = pkg_writer_write(w, buf, n);
    if (rc == 0)
        rc = pkg_writer_end(w);
    if (f != NULL)
        fclose(f);
    return rc;
}

static int repack(int argc, char **argv)
{
    struct key *center = NULL, *room = NULL;
    struct pkg_reader *rd = NULL, *out = NULL;
    struct pkg_writer *w = NULL;
    const struct pkg_info *info;
    char tmp[4200];
    int rc = open_in(argv[2], argv[3], argv[4], &center, &room, &rd);

    snprintf(tmp, sizeof(tmp), "%s.section", argv[5]);
    if (rc == 0) {
        info = pkg_get_info(rd);
        const struct pkg_writer_params p = {.plan_id = info->plan_id,
                                            .room_id = info->room_id,
                                            .version = info->version,
                                            .created_at = (int64_t)time(NULL),
                                            .expires_at = info->expires_at,
                                            .center_key = center,
                                            .room_key = room,
                                            .scrypt_log2_n = 10};
        rc = pkg_writer_new(&p, argv[5], &w);
    }
    for (size_t i = 0; rc == 0 && i < pkg_get_info(rd)->n_sections; i++) {
        const struct pkg_section_info *s = &pkg_get_info(rd)->sections[i];
        const char *from = NULL;
        int drop = s->session >= 0;

        for (int a = 6; a < argc; a++) {
            size_t len = strlen(s->name);

            if (argv[a][0] == '-' && strcmp(argv[a] + 1, s->name) == 0)
                drop = 1;
            if (strncmp(argv[a], s->name, len) == 0 && argv[a][len] == '=')
                from = argv[a] + len + 1;
        }
        if (!drop)
            rc = copy_section(w, rd, s->name, from, tmp);
    }
    remove(tmp);
    if (rc == 0)
        rc = pkg_writer_finish(w);
    if (rc == 0) {
        const struct pkg_trust t = {center, room, 0, (int64_t)time(NULL)};
        char hex[65];

        rc = pkg_open(argv[5], &t, &out);
        if (rc == 0) {
            hex_encode(pkg_get_info(out)->package_id, 32, hex);
            printf("%s\n", hex);
        }
    }
    pkg_writer_free(w);
    pkg_close(rd);
    pkg_close(out);
    key_free(center);
    key_free(room);
    return rc;
}

static int cat(char **argv)
{
    struct key *center = NULL, *room = NULL;
    struct pkg_reader *rd = NULL;
    int rc = open_in(argv[2], argv[3], argv[4], &center, &room, &rd);

    if (rc == 0)
        rc = pkg_read(rd, argv[5], NULL, to_file, stdout);
    pkg_close(rd);
    key_free(center);
    key_free(room);
    return rc;
}

static int print_row(void *arg, int n, char **values, char **names)
{
    (void)arg;
    (void)names;
    printf("%s\n", n > 0 && values[0] != NULL ? values[0] : "");
    return 0;
}

static int sql(char **argv)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc = sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, argv[3], print_row, NULL, &err);
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "repack: %s\n", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : ER_IO;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc == 4 && strcmp(argv[1], "sql") == 0)
        rc = sql(argv);
    else if (argc == 6 && strcmp(argv[1], "cat") == 0)
        rc = cat(argv);
    else if (argc >= 6 && strcmp(argv[1], "pkg") == 0)
        rc = repack(argc, argv);
    else {
        fprintf(stderr, "usage: repack pkg|cat|sql ...\n");
        return 2;
    }
    if (rc < 0)
        fprintf(stderr, "repack: %s\n", er_name(rc));
    return rc < 0 ? 1 : 0;
}
