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

.PHONY: all iso run run-nested run-linux run-qemu test test-reference unit boot-test deps clean bench bench-kvm \
        fuzz fuzz-regress coverage
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
	    --l1 $(BUILD)/linux/vmlinuz --l1-args "console=ttyS0,115200 panic=-1 mitigations=off nokaslr cryptomgr.notests=1 idle=halt" \
	    --module $(BUILD)/linux/initramfs.cpio:initrd
	$(PYTHON) tools/nestor_run.py bochs --iso $(BUILD)/linux-demo.iso --megs 512 --cpus 2 --live

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

bench: deps all $(GHV_ELF) $(PFBENCH_ELF)
	$(PYTHON) tools/bench.py

bench-kvm: deps all $(KVMTEST_BIN) $(PFBENCH_ELF)
	$(PYTHON) tools/bench_kvm.py

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
