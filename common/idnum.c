/* Resident ID numbers: GB 11643-1999, check character by ISO 7064 MOD 11-2. */
#include "common.h"

#include <string.h>
#include <time.h>

/* Long enough for an 18-character number typed with full-width characters
 * and some spaces around it; anything longer is the wrong length anyway. */
#define IDNUM_INPUT_MAX 128

static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char check_chars[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};

char idnum_check_char(const char *id17)
{
    int sum = 0;

    for (int i = 0; i < 17; i++)
        sum += (id17[i] - '0') * weights[i];
    return check_chars[sum % 11];
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Today's date as YYYYMMDD in Beijing time (UTC+8, no daylight saving), the
 * calendar that ID numbers are issued in. */
static int today_beijing(void)
{
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;

    gmtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int birth_date_ok(const char *date)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = digits(date, 4), m = digits(date + 4, 2), d = digits(date + 6, 2);
    int last;

    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return 0;
    last = mdays[m - 1] + (m == 2 && is_leap(y));
    if (d > last)
        return 0;
    return digits(date, 8) <= today_beijing();
}

int idnum_check(const char *in, char out[IDNUM_LEN + 1])
{
    char buf[IDNUM_INPUT_MAX], id[IDNUM_LEN + 1];
    const char *s;
    size_t len;

    if (strlen(in) >= sizeof(buf))
        return ER_ID_LENGTH;
    if (text_fold_fullwidth(in, buf, sizeof(buf)) < 0)
        return ER_ID_LENGTH;
    s = buf;
    while (*s == ' ' || *s == '\t')
        s++;
    len = strlen(s);
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    if (len != IDNUM_LEN)
        return ER_ID_LENGTH;

    for (size_t i = 0; i < IDNUM_LEN; i++) {
        char c = s[i];

        if (i == IDNUM_LEN - 1 && c == 'x')
            c = 'X';
        if (!(c >= '0' && c <= '9') && !(i == IDNUM_LEN - 1 && c == 'X'))
            return ER_ID_CHAR;
        id[i] = c;
    }
    id[IDNUM_LEN] = '\0';

    if (!birth_date_ok(id + 6))
        return ER_ID_BIRTH;
    if (idnum_check_char(id) != id[IDNUM_LEN - 1])
        return ER_ID_CHECK;
    memcpy(out, id, sizeof(id));
    return 0;
}
