/* Leveled logging onto the console sink. */
#include <stdarg.h>
#include "nestor/fmt.h"
#include "nestor/lib.h"
#include "nestor/log.h"

static enum log_level threshold = LOG_INFO;
static int (*cpu_tag)(void);

void log_set_cpu_tag(int (*fn)(void)) { cpu_tag = fn; }

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

const char *log_level_name(enum log_level level)
{
    return (unsigned)level < ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

bool log_set_level(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0 || (name[0] == (char)('0' + i) && name[1] == 0)) {
            threshold = (enum log_level)i;
            return true;
        }
    }
    return false;
}

enum log_level log_get_level(void) { return threshold; }

bool log_enabled(enum log_level level) { return level <= threshold; }

static void emit(enum log_level level, const char *fmt, va_list ap)
{
    char line[512], tag[16] = "";
    int cpu = cpu_tag ? cpu_tag() : -1;
    if (cpu >= 0)
        fmt_snprintf(tag, sizeof tag, "cpu%d: ", cpu);
    int n = fmt_snprintf(line, sizeof line, "nestor: %s%s%s", tag, level == LOG_INFO ? "" : log_level_name(level),
                         level == LOG_INFO ? "" : ": ");
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    fmt_vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    console_lock();
    console_break_line();
    console_write(line, len);
    console_unlock();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(level, fmt, ap);
    va_end(ap);
}

void log_always(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_INFO, fmt, ap);
    va_end(ap);
}
