/*
 * kvmtest --smp: one VM with two vCPUs, one thread each, each in its own
 * KVM_RUN loop, as QEMU runs an SMP guest.
 *
 * Both vCPUs run the same 64-bit payload (guests.S, kvmtest_smp_start) on
 * the same memory. They ping-pong on one shared counter, so a phase only
 * ends if both vCPUs run at the same time (or at least in turn). With two
 * or more CPUs online, thread n is pinned to CPU n for the first phase and
 * to the other CPU for the second: KVM then has to move each vCPU's VMCS
 * from one CPU to the other (VMCLEAR on the old one, VMPTRLD on the new),
 * which under a hypervisor is nested VMX state moving between L1 CPUs.
 *
 * Lines (order between the two vCPUs varies):
 *   kvmtest: smp cpus online=<n>
 *   kvmtest: smp vcpu<i> up cpu=<c>
 *   kvmtest: smp vcpu<i> phase0 increments=200 cpu=<c>
 *   kvmtest: smp vcpu<i> moved to cpu=<c>            (only with 2+ CPUs)
 *   kvmtest: smp vcpu<i> phase1 increments=200 cpu=<c>
 *   kvmtest: smp vcpu<i> done counter=<n> exits=<n>
 *   kvmtest: smp vcpu<i> hlt
 *   kvmtest: smp counter=800
 *   kvmtest: smp ok | smp FAIL <what> | smp vcpu<i> FAIL <what> | smp TIMEOUT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvmtest.h"

extern const uint8_t kvmtest_smp_start[], kvmtest_smp_end[];

#define SMP_MEM_SIZE   0x200000ull
#define SMP_CODE       0x1000ull
#define SMP_STACK(i)   (0x8000ull - 0x1000ull * (i))
#define SMP_COUNTER    0x20000ull
#define SMP_TSS_ADDR   0xfffbd000ul
#define SMP_ROUNDS     200u             /* per vCPU per phase, as in guests.S */
#define SMP_TIMEOUT_S  120
#define PORT_UP        0x14
#define PORT_PHASE     0x15
#define PORT_DONE      0x16

struct smp_vcpu {
	int id, fd, ncpus;
	struct kvm_run *run;
	pthread_t thread;
	int ok;                         /* reached HLT with every value right */
	char fail[160];
};

static volatile int smp_timed_out;

static void on_kick(int sig)
{
	(void)sig;                      /* only interrupts KVM_RUN (EINTR) */
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *vcpu_thread(void *arg)
{
	struct smp_vcpu *v = arg;
	int phase = 0, exits = 0, up = 0, done = 0;
	int pinned = v->ncpus >= 2;

	if (pinned)
		pin(v->id);
	for (;;) {
		if (smp_timed_out) {
			snprintf(v->fail, sizeof(v->fail), "timeout after %d exits (phase %d)", exits, phase);
			return NULL;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(v->fail, sizeof(v->fail), "KVM_RUN: %s", strerror(errno));
			return NULL;
		}
		exits++;
		struct kvm_run *r = v->run;

		if (r->exit_reason == KVM_EXIT_HLT) {
			say("smp vcpu%d hlt", v->id);
			if (!done)
				snprintf(v->fail, sizeof(v->fail), "hlt before the end");
			else if (!v->fail[0])
				v->ok = 1;
			return NULL;
		}
		if (r->exit_reason != KVM_EXIT_IO || r->io.direction != KVM_EXIT_IO_OUT || r->io.size != 4) {
			snprintf(v->fail, sizeof(v->fail), "exit_reason=%u (%s) after %d exits", r->exit_reason,
				 exit_name(r->exit_reason), exits);
			return NULL;
		}
		uint32_t val;

		memcpy(&val, (uint8_t *)r + r->io.data_offset, 4);
		switch (r->io.port) {
		case PORT_UP:
			say("smp vcpu%d up cpu=%d", v->id, sched_getcpu());
			if (val != (uint32_t)v->id || up++)
				snprintf(v->fail, sizeof(v->fail), "up says %u", val);
			break;
		case PORT_PHASE:
			say("smp vcpu%d phase%d increments=%u cpu=%d", v->id, phase, val, sched_getcpu());
			if (val != SMP_ROUNDS && !v->fail[0])
				snprintf(v->fail, sizeof(v->fail), "phase%d increments=%u", phase, val);
			if (phase++ == 0 && pinned) {
				/* The other CPU for phase 1: KVM moves this vCPU's VMCS there. */
				pin(!v->id);
				say("smp vcpu%d moved to cpu=%d", v->id, sched_getcpu());
			}
			break;
		case PORT_DONE:
			say("smp vcpu%d done counter=%u exits=%d", v->id, val, exits);
			done = 1;
			if (phase != 2 && !v->fail[0])
				snprintf(v->fail, sizeof(v->fail), "done after %d phases", phase);
			break;
		default:
			snprintf(v->fail, sizeof(v->fail), "out to port 0x%x", r->io.port);
			return NULL;
		}
	}
}

int smp_main(int kvm, int run_size, const struct kvm_cpuid2 *cpuid)
{
	struct smp_vcpu v[2];
	const char *what = NULL;
	uint8_t *mem;
	int vm, ok = 1;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(v, 0, sizeof(v));
	say("smp cpus online=%ld", ncpus);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		say("smp FAIL KVM_CREATE_VM: %s", strerror(errno));
		return 1;
	}
	if (ioctl(vm, KVM_SET_TSS_ADDR, SMP_TSS_ADDR) < 0) {
		say("smp FAIL KVM_SET_TSS_ADDR: %s", strerror(errno));
		return 1;
	}
	mem = mmap(NULL, SMP_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		say("smp FAIL mmap: %s", strerror(errno));
		return 1;
	}
	memcpy(mem + SMP_CODE, kvmtest_smp_start, (size_t)(kvmtest_smp_end - kvmtest_smp_start));
	write_gdt(mem);
	write_page_tables(mem);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = SMP_MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		say("smp FAIL KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return 1;
	}

	for (int i = 0; i < 2; i++) {
		v[i].id = i;
		v[i].ncpus = (int)ncpus;
		v[i].fd = ioctl(vm, KVM_CREATE_VCPU, i);
		if (v[i].fd < 0) { what = "KVM_CREATE_VCPU"; goto setup_failed; }
		v[i].run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v[i].fd, 0);
		if (v[i].run == MAP_FAILED) { what = "mmap kvm_run"; goto setup_failed; }
		if (cpuid && ioctl(v[i].fd, KVM_SET_CPUID2, cpuid) < 0) { what = "KVM_SET_CPUID2"; goto setup_failed; }
		if (setup_sregs(v[i].fd, MODE_LONG64, &what) < 0)
			goto setup_failed;
		struct kvm_regs regs;

		memset(&regs, 0, sizeof(regs));
		regs.rip = SMP_CODE;
		regs.rsp = SMP_STACK(i);
		regs.rbx = (uint64_t)i;
		regs.rflags = 0x2;
		if (ioctl(v[i].fd, KVM_SET_REGS, &regs) < 0) { what = "KVM_SET_REGS"; goto setup_failed; }
	}

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);      /* no SA_RESTART: KVM_RUN returns EINTR */
	for (int i = 0; i < 2; i++)
		if (pthread_create(&v[i].thread, NULL, vcpu_thread, &v[i]) != 0) {
			say("smp FAIL pthread_create");
			return 1;
		}

	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SMP_TIMEOUT_S;
	for (int i = 0; i < 2; i++) {
		if (pthread_timedjoin_np(v[i].thread, NULL, &deadline) == 0)
			continue;
		/* Too long: make both threads leave KVM_RUN and give up. */
		smp_timed_out = 1;
		for (int j = 0; j < 2; j++) {
			v[j].run->immediate_exit = 1;
			pthread_kill(v[j].thread, SIGUSR1);
		}
		pthread_join(v[i].thread, NULL);
		say("smp TIMEOUT");
	}

	uint32_t counter;

	memcpy(&counter, mem + SMP_COUNTER, 4);
	say("smp counter=%u", counter);
	if (counter != 4 * SMP_ROUNDS)
		ok = 0;
	for (int i = 0; i < 2; i++) {
		if (!v[i].ok) {
			say("smp vcpu%d FAIL %s", i, v[i].fail[0] ? v[i].fail : "?");
			ok = 0;
		}
	}
	say(ok ? "smp ok" : "smp FAIL");
	return ok ? 0 : 1;

setup_failed:
	say("smp FAIL setup %s: %s", what, strerror(errno));
	return 1;
}
