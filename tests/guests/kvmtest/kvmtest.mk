# kvmtest: static Linux user program that runs three tiny guests through
# /dev/kvm (real mode, 32-bit protected mode, 64-bit long mode), or with
# --mb2 a Multiboot2 ELF kernel. It runs in the initramfs of a Linux L1 guest
# of Nestor, so those guests are L2.
#
# Included by the top-level Makefile, which runs from the repository root.
# Every variable is prefixed KVMTEST_ so nothing collides with the includer's
# CC/CFLAGS (those are for the freestanding hypervisor; this is an ordinary
# hosted glibc program, linked statically).
#
#   build/tests/kvmtest   static x86-64 ELF executable
#
# Standalone: make -f tests/guests/kvmtest/kvmtest.mk build/tests/kvmtest

# Keep whatever default goal the including Makefile had (restored at the end).
KVMTEST_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

KVMTEST_CC ?= gcc

KVMTEST_SRC := tests/guests/kvmtest
KVMTEST_BIN := build/tests/kvmtest

KVMTEST_CFLAGS  := -static -pthread -O2 -Wall -Wextra -Werror -std=gnu11
KVMTEST_SOURCES := $(KVMTEST_SRC)/kvmtest.c $(KVMTEST_SRC)/mb2.c $(KVMTEST_SRC)/smp.c $(KVMTEST_SRC)/guests.S

# One compiler invocation (C, the --mb2 loader in mb2.c, the guest payloads
# in guests.S): the binary's only inputs are these files, kvmtest.h and this
# fragment, listed explicitly.
$(KVMTEST_BIN): $(KVMTEST_SOURCES) $(KVMTEST_SRC)/kvmtest.h $(KVMTEST_SRC)/kvmtest.mk
	@mkdir -p $(@D)
	$(KVMTEST_CC) $(KVMTEST_CFLAGS) -o $@ $(KVMTEST_SOURCES)

.PHONY: kvmtest kvmtest-clean
kvmtest: $(KVMTEST_BIN)

kvmtest-clean:
	rm -f $(KVMTEST_BIN)

.DEFAULT_GOAL := $(KVMTEST_SAVED_DEFAULT_GOAL)
