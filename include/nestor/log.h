/*
 * The one logger. Every line Nestor prints starts with "nestor: " (plus the
 * level for anything but info), so the transcript tells Nestor's lines from
 * L1's, which start with "L1> ". The threshold comes from loglevel= on
 * Nestor's command line.
 */
#ifndef NESTOR_LOG_H
#define NESTOR_LOG_H

#include "types.h"

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Printed whatever the threshold: the lines tests and users rely on (run end, refusal). */
void log_always(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool log_enabled(enum log_level level);
/* Accepts error|warn|info|debug|trace or 0-4. */
bool log_set_level(const char *name);
enum log_level log_get_level(void);
const char *log_level_name(enum log_level level);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
/* The level is tested first: their arguments (VMREADs, names) cost nothing on the exit path when off. */
#define log_debug(...)                         \
    do {                                       \
        if (log_enabled(LOG_DEBUG))            \
            log_msg(LOG_DEBUG, __VA_ARGS__);   \
    } while (0)
#define log_trace(...)                         \
    do {                                       \
        if (log_enabled(LOG_TRACE))            \
            log_msg(LOG_TRACE, __VA_ARGS__);   \
    } while (0)

/* Where log lines go: the serial console in Nestor, a capture buffer in unit tests. */
void console_write(const char *s, size_t n);
/* Held around each whole line, so lines from different CPUs never interleave. */
void console_lock(void);
void console_unlock(void);
/* Under the lock: ends a partial line (L1's prompt) so the next line starts at the left margin. */
void console_break_line(void);
/* With more than one CPU, each line names its CPU: fn returns the CPU's number, or -1 for no tag. */
void log_set_cpu_tag(int (*fn)(void));

#endif
