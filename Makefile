# Nestor: build, boot and test. `make run` boots the demo in Bochs; `make test` runs every test.
# Both install the Debian packages they need (tools/deps.sh) when they are missing.

BUILD      := build
CC         := gcc
LD         := ld
PYTHON     := /usr/bin/python3

CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
          -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie -fno-stack-protector \
          -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
          -mno-red-zone -mcmodel=kernel -mgeneral-regs-only -mno-sse -mno-mmx -mno-avx \
          -Iinclude -MMD -MP
ASFLAGS := -Iinclude -MMD -MP -D__ASSEMBLY__
LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

SRCS_C := $(wildcard boot/*.c core/*.c drivers/*.c vmx/*.c ept/*.c nested/*.c)
SRCS_S := $(wildcard boot/*.S vmx/*.S)
OBJS   := $(patsubst %,$(BUILD)/obj/%.o,$(SRCS_C) $(SRCS_S))

# The default demo: the test kernel saying hello as a Multiboot2 L1, with one extra module.
L1         ?= $(BUILD)/tests/l1test-mb2.elf
L1_ARGS    ?= test=hello
MODULES    ?= tests/guests/demo-module.txt:demo-module
NESTOR_ARGS ?= loglevel=info
ISO        ?= $(BUILD)/nestor.iso

.PHONY: all iso run run-nested run-linux run-turtles run-gdb run-qemu test test-reference test-models test-long unit boot-test deps \
        clean bench bench-kvm fuzz fuzz-regress coverage
all: $(BUILD)/nestor $(ISO)

include tests/guests/l1test/l1test.mk
include tests/guests/ghv/ghv.mk
include bench/pfbench/pfbench.mk
include tests/guests/kvmtest/kvmtest.mk

$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/nestor: $(OBJS) linker.ld
	$(LD) $(LDFLAGS) -o $@ $(OBJS)
	@tools/check-image.sh $@

iso: $(BUILD)/nestor $(L1)
	tools/mkiso.sh --out $(ISO) --nestor $(BUILD)/nestor --nestor-args "$(NESTOR_ARGS)" \
	    --l1 "$(L1)" --l1-args "$(L1_ARGS)" $(foreach m,$(MODULES),--module "$(m)")

$(ISO): $(BUILD)/nestor $(L1) tools/mkiso.sh
	$(MAKE) --no-print-directory iso

deps:
	@tools/deps.sh

run: deps all
	$(PYTHON) tools/nestor_run.py bochs --iso $(ISO) --live

# Nested demos: our guest hypervisor running L2 under nested EPT; Linux with KVM as L1.
run-nested: deps all $(GHV_ELF)
	tools/mkiso.sh --out $(BUILD)/nested-demo.iso --nestor $(BUILD)/nestor --nestor-args "loglevel=info" \
	    --l1 $(GHV_ELF) --l1-args "test=ept"
	$(PYTHON) tools/nestor_run.py bochs --iso $(BUILD)/nested-demo.iso --live

run-linux: deps all $(KVMTEST_BIN)
	$(PYTHON) tools/linux_kit.py build
	tools/mkiso.sh --out $(BUILD)/linux-demo.iso --nestor $(BUILD)/nestor --nestor-args "loglevel=info" \
	    --l1 $(BUILD)/linux/vmlinuz --l1-args "console=ttyS0,115200 panic=-1 mitigations=off nokaslr cryptomgr.notests=1 idle=halt shell=1" \
	    --module $(BUILD)/linux/initramfs.cpio:initrd
	$(PYTHON) tools/nestor_run.py bochs --iso $(BUILD)/linux-demo.iso --megs 512 --cpus 2 --live

# Three levels: Nestor (L0) runs Linux/KVM (L1), KVM runs ghv (L2), ghv runs its own L3 (docs/NESTED.md,
# "Three levels"). TURTLES is ghv's command line (commas for spaces): test=l0 has L3 print a line itself,
# test=ept runs L3 under ghv's EPT; TURTLES_KVM adds kvm_intel options, e.g.
# make run-turtles TURTLES=test=basic TURTLES_KVM=kvm_intel.ept=0
TURTLES ?= test=l0
TURTLES_KVM ?=
run-turtles: deps all $(KVMTEST_BIN) $(GHV_ELF)
	$(PYTHON) tools/linux_kit.py build
	tools/mkiso.sh --out $(BUILD)/turtles-demo.iso --nestor $(BUILD)/nestor --nestor-args "loglevel=info" \
	    --l1 $(BUILD)/linux/vmlinuz --l1-args "console=ttyS0,115200 panic=-1 quiet mitigations=off nokaslr cryptomgr.notests=1 idle=halt kvm_intel.nested=1 $(TURTLES_KVM) kvmtest=--mem,128 mb2=ghv.elf,$(TURTLES)" \
	    --module $(BUILD)/linux/initramfs.cpio:initrd
	$(PYTHON) tools/nestor_run.py bochs --iso $(BUILD)/turtles-demo.iso --megs 512 --live

# L1 under Nestor's GDB stub (gdb=com2): Bochs' COM2 is a TCP server on 127.0.0.1:GDB_PORT and waits for gdb.
GDB_PORT    ?= 1234
GDB_L1      ?= $(L1TEST_MB1)
GDB_L1_ARGS ?= test=gdb
run-gdb: deps all $(GDB_L1)
	tools/mkiso.sh --out $(BUILD)/gdb-demo.iso --nestor $(BUILD)/nestor --nestor-args "loglevel=info gdb=com2" \
	    --l1 $(GDB_L1) --l1-args "$(GDB_L1_ARGS)"
	@echo "run-gdb: Bochs waits for the debugger on 127.0.0.1:$(GDB_PORT); in another terminal:"
	@echo "    gdb -ex 'set remotetimeout 60' -ex 'target remote :$(GDB_PORT)' $(GDB_L1)"
	$(PYTHON) tools/nestor_run.py bochs --iso $(BUILD)/gdb-demo.iso --com2-port $(GDB_PORT) --live

run-qemu: deps all
	tools/run-qemu.sh $(ISO)

unit: deps
	$(MAKE) --no-print-directory -C tests/unit BUILD=$(abspath $(BUILD))/unit

# The nested layer, EPT code and loaders under libFuzzer on the fake CPU (tests/fuzz/README.md):
# every target FUZZ_SECONDS long; the short CI replay (part of make test); line coverage of
# the unit tests plus the fuzz corpora, ending "coverage nested/+ept/: NN.N % of N lines".
FUZZ_SECONDS ?= 60
fuzz: deps
	$(MAKE) --no-print-directory -C tests/fuzz BUILD=$(abspath $(BUILD))/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz

fuzz-regress: deps
	$(MAKE) --no-print-directory -C tests/fuzz BUILD=$(abspath $(BUILD))/fuzz regress

coverage: deps
	$(MAKE) --no-print-directory -C tests/fuzz BUILD=$(abspath $(BUILD))/fuzz coverage

test: deps all $(L1TEST_MB1) $(L1TEST_MB2) $(GHV_ELF) $(KVMTEST_BIN) $(PFBENCH_ELF)
	$(PYTHON) tools/run_tests.py

# Long runs of the test guests on bare Bochs (no Nestor), the references some boot tests were written against.
test-reference: deps all $(L1TEST_MB2) $(GHV_ELF) $(KVMTEST_BIN)
	$(PYTHON) tools/run_tests.py -m reference

# The nested boot tests on each Bochs CPU model with VMX, EPT and unrestricted guest (make test runs
# tests/boot/test_cpu_models.py's sandy_bridge subset and the lynnfield refusal only).
MODELS       ?= corei7_sandy_bridge_2600k corei7_haswell_4770 corei7_skylake_x
MODELS_TESTS ?= tests/boot/test_nested_vmx.py tests/boot/test_nested_isolation.py tests/boot/test_nested_exits_more.py \
                tests/boot/test_l1_shadow_vmcs.py \
                tests/boot/test_nested_eptad.py
test-models: deps all $(L1TEST_MB2) $(GHV_ELF)
	@status=0; for m in $(MODELS); do echo "== NESTOR_CPU_MODEL=$$m"; \
	    NESTOR_CPU_MODEL=$$m $(PYTHON) -m pytest -p no:cacheprovider -q $(MODELS_TESTS) || status=1; done; \
	$(PYTHON) -m pytest -p no:cacheprovider -q tests/boot/test_cpu_models.py || status=1; exit $$status

# Boots too long for make test (the interactive Linux shell through the console, issue 10).
test-long: deps all $(L1TEST_MB2) $(KVMTEST_BIN)
	$(PYTHON) tools/run_tests.py -m long

bench: deps all $(GHV_ELF) $(PFBENCH_ELF)
	$(PYTHON) tools/bench.py

bench-kvm: deps all $(KVMTEST_BIN) $(PFBENCH_ELF)
	$(PYTHON) tools/bench_kvm.py

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
