/*
 * The machine-readable exit statistics (Ctrl-A s, stats=N): per L1 CPU and
 * level, the count of each exit reason by number, for tools/nestor_stat.py:
 *   nestor: stats v1 cpu=C tsc=T level=L [REASON=COUNT ...]
 * L is l1 (L1's exits Nestor handled), l2l0 (L2's exits Nestor handled) or
 * l2l1 (L2's exits reflected to L1); only nonzero counts are listed. A level
 * with more reasons than fit a log line continues on further lines with the
 * same header. T is the TSC when the line was made (instructions under
 * Bochs' sync=none).
 */
#include "exit_handlers.h"
#include "nestor/arch.h"
#include "nestor/fmt.h"
#include "nestor/lib.h"
#include "nestor/log.h"
#include "nestor/percpu.h"

#define STATS_LINE_MAX 400 /* below the logger's 512 with its prefix */

static void level_lines(unsigned cpu, uint64_t tsc, const char *level, const uint64_t *counts)
{
    char line[STATS_LINE_MAX + 32];
    int head = fmt_snprintf(line, sizeof line, "stats v1 cpu=%u tsc=%lu level=%s", cpu, tsc, level);
    size_t len = (size_t)head;
    bool printed = false;
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
        if (!counts[r])
            continue;
        char pair[32];
        int n = fmt_snprintf(pair, sizeof pair, " %u=%lu", r, counts[r]);
        if (len + (size_t)n > STATS_LINE_MAX) {
            line[len] = 0;
            log_always("%s", line);
            printed = true;
            len = (size_t)head;
        }
        memcpy(line + len, pair, (size_t)n);
        len += (size_t)n;
    }
    if (len > (size_t)head || !printed) {
        line[len] = 0;
        log_always("%s", line);
    }
}

void exit_stats_lines(void)
{
    uint64_t tsc = read_tsc();
    for (unsigned i = 0; i < g_cpu_count; i++) {
        const struct vcpu *v = g_cpus[i]->vcpu;
        if (!v)
            continue;
        level_lines(v->l1_index, tsc, "l1", v->exit_count);
        level_lines(v->l1_index, tsc, "l2l0", v->nested.stats.l2_by_l0);
        level_lines(v->l1_index, tsc, "l2l1", v->nested.stats.l2_to_l1);
    }
}
