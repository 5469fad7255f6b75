/* Private to agent/: the files of agent/web/, built into the program by
 * web_embed.cmake (the generated web_files.c) and served by static.c. */
#ifndef EXAMROOM_AGENT_STATIC_H
#define EXAMROOM_AGENT_STATIC_H

#include <stddef.h>

struct web_file {
    const char *name; /* as in agent/web/, no directory */
    const unsigned char *bytes;
    size_t size;
    const char *content_type;
    const char *etag; /* strong, quoted: a prefix of the SHA-256 of bytes */
};

/* In name order; web_files_count of them (then a zeroed row). */
extern const struct web_file web_files[];
extern const size_t web_files_count;

/* The file of that name exactly, or NULL. */
const struct web_file *web_file_find(const char *name);

#endif
