/*
 * The split of a run's cycles into L0, L1 and L2 and Nestor's cost per exit path and
 * reason (include/nestor/level_stats.h). Runs twice per exit: cheap, no lock (per vCPU).
 */
#include "nestor/level_stats.h"
#include "nestor/fmt.h"
#include "nestor/log.h"
#include "nestor/vcpu.h"

static const char *const path_names[PATH_COUNT] = {"L1->L0", "L2->L0", "L2->L1"};

void level_stats_exit(struct vcpu *v, bool from_l2)
{
    struct level_stats *s = &v->levels;
    uint64_t entry = v->regs.entry_tsc, exit = v->regs.exit_tsc;
    if (s->last_exit_tsc) {
        uint64_t l0 = entry - s->last_exit_tsc;
        s->now.cycles[LEVEL_L0] += l0;
        s->l0_cycles[s->last_path][s->last_reason] += l0;
    }
    s->now.cycles[from_l2 ? LEVEL_L2 : LEVEL_L1] += exit - entry;
    s->last_exit_tsc = exit;
    s->last_reason = EXIT_REASON_BASIC(v->exit_reason) < EXIT_REASON_COUNT ? EXIT_REASON_BASIC(v->exit_reason) : 0;
    /* CPUID with a mark leaf in EAX, from L1 or L2: before anything handles (or reflects) it. */
    if (s->last_reason == EXIT_CPUID) {
        uint32_t leaf = (uint32_t)v->regs.gpr[GPR_RAX];
        if (leaf == LEVEL_MARK_START || leaf == LEVEL_MARK_STOP) {
            unsigned i = leaf == LEVEL_MARK_STOP;
            s->mark[i] = s->now;
            s->mark[i].ept02_fills = v->nested.stats.ept02_fills;
            s->mark[i].ept02_prefills = v->nested.stats.ept02_prefills;
            s->mark[i].ept02_prefetched = v->nested.stats.ept02_prefetched;
            s->marks_seen |= 1u << i;
        }
    }
}

void level_stats_handled(struct vcpu *v, bool from_l2)
{
    struct level_stats *s = &v->levels;
    unsigned path = !from_l2 ? PATH_L1_L0 : v->nested.in_l2 ? PATH_L2_L0 : PATH_L2_L1;
    s->last_path = path;
    s->now.exits[path]++;
    s->l0_exits[path][s->last_reason]++;
}

static unsigned long per(uint64_t a, uint64_t b) { return b ? (unsigned long)(a / b) : 0; }

/* n/d as "N.NN" */
static void ratio(char *buf, uint64_t n, uint64_t d)
{
    uint64_t r = d ? n * 100 / d : 0;
    fmt_snprintf(buf, 24, "%lu.%02lu", r / 100, r % 100);
}

void level_stats_print(const struct vcpu *v)
{
    const struct level_stats *s = &v->levels;
    const struct level_counts *c = &s->now;
    log_always("levels: whole run L0 %lu L1 %lu L2 %lu cycles", c->cycles[LEVEL_L0], c->cycles[LEVEL_L1],
               c->cycles[LEVEL_L2]);
    for (unsigned p = 0; p < PATH_COUNT; p++)
        for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
            if (s->l0_exits[p][r])
                log_always("l0cost: %s %s: %u exits, %lu cycles in Nestor, %lu per exit", path_names[p],
                           exit_reason_name(r), s->l0_exits[p][r], s->l0_cycles[p][r],
                           per(s->l0_cycles[p][r], s->l0_exits[p][r]));
    const struct nested_stats *ns = &v->nested.stats;
    if (ns->entries)
        log_always("ept02 ahead of faults: %lu pre-filled at entry, %lu prefetched on shadow misses", ns->ept02_prefills,
                   ns->ept02_prefetched);
    if (s->marks_seen != 3)
        return;
    const struct level_counts *a = &s->mark[0], *b = &s->mark[1];
    uint64_t l0 = b->cycles[LEVEL_L0] - a->cycles[LEVEL_L0], l1 = b->cycles[LEVEL_L1] - a->cycles[LEVEL_L1];
    uint64_t l2 = b->cycles[LEVEL_L2] - a->cycles[LEVEL_L2];
    uint64_t e[PATH_COUNT];
    for (unsigned p = 0; p < PATH_COUNT; p++)
        e[p] = b->exits[p] - a->exits[p];
    uint64_t all = e[PATH_L1_L0] + e[PATH_L2_L0] + e[PATH_L2_L1], dbg = b->debugctl_reads - a->debugctl_reads;
    char r1[24], r2[24];
    ratio(r1, e[PATH_L1_L0], e[PATH_L2_L1]);
    ratio(r2, e[PATH_L1_L0] - dbg, e[PATH_L2_L1]);
    log_always("window: L0 %lu L1 %lu L2 %lu cycles; exits L1->L0 %lu L2->L0 %lu L2->L1 %lu; %lu per exit in Nestor",
               l0, l1, l2, e[PATH_L1_L0], e[PATH_L2_L0], e[PATH_L2_L1], per(l0, all));
    log_always("window: %s L1 exits per reflected L2 exit, %s without the %lu emulated DEBUGCTL reads", r1, r2, dbg);
    log_always("window: EPT02 %lu fills, %lu pre-filled at entry, %lu prefetched", b->ept02_fills - a->ept02_fills,
               b->ept02_prefills - a->ept02_prefills, b->ept02_prefetched - a->ept02_prefetched);
}
