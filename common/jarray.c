/* Sorting a jansson array: jansson has no sort, and its arrays can't be
 * reached as a C array, so the elements are lent to one, sorted, and put
 * back. */
#include "common.h"

#include <jansson.h>
#include <stdlib.h>

int jarray_sort(json_t *array, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(array);
    json_t **v;

    if (n < 2)
        return 0;
    if ((v = malloc(n * sizeof(*v))) == NULL)
        return ER_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(array, i));
    qsort(v, n, sizeof(*v), cmp);
    json_array_clear(array);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(array, v[i]);
    free(v);
    return 0;
}
