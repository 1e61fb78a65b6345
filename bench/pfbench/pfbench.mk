# pfbench: page-fault / address-space-switch benchmark kernel (bench/pfbench/README.md).
#
# Included by the top-level Makefile, which runs from the repository root
# (or run directly: make -f bench/pfbench/pfbench.mk). Every variable is
# prefixed PFBENCH_; the image is a low, identity-mapped -mcmodel=small
# kernel, unlike Nestor's -mcmodel=kernel build.
#
#   build/bench/pfbench.elf   Multiboot2 ELF64 kernel, loaded at 1 MiB

# Keep whatever default goal the including Makefile had (restored at the end).
PFBENCH_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

PFBENCH_CC ?= gcc
PFBENCH_LD ?= ld

PFBENCH_SRC := bench/pfbench
PFBENCH_OBJ := build/bench/pfbench
PFBENCH_ELF := build/bench/pfbench.elf

PFBENCH_CFLAGS := -m64 -std=c11 -O2 -Wall -Wextra -mcmodel=small \
	-ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone -fno-stack-protector \
	-mgeneral-regs-only -mno-sse -mno-mmx -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -MMD -MP -Itests/guests/common
PFBENCH_ASFLAGS := -m64 -ffreestanding -fno-pic -fno-pie -MMD -MP
PFBENCH_LDFLAGS := -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--build-id=none -T $(PFBENCH_SRC)/link.ld

PFBENCH_S_NAMES := entry isr
PFBENCH_C_NAMES := main boot mm trap console

PFBENCH_S_OBJS := $(PFBENCH_S_NAMES:%=$(PFBENCH_OBJ)/%.S.o)
PFBENCH_C_OBJS := $(PFBENCH_C_NAMES:%=$(PFBENCH_OBJ)/%.c.o)
PFBENCH_OBJS := $(PFBENCH_S_OBJS) $(PFBENCH_C_OBJS)

# Static pattern rules: explicit, so they win over any generic rule upstairs.
$(PFBENCH_C_OBJS): $(PFBENCH_OBJ)/%.c.o: $(PFBENCH_SRC)/%.c $(PFBENCH_SRC)/pfbench.mk
	@mkdir -p $(@D)
	$(PFBENCH_CC) $(PFBENCH_CFLAGS) -c $< -o $@

$(PFBENCH_S_OBJS): $(PFBENCH_OBJ)/%.S.o: $(PFBENCH_SRC)/%.S $(PFBENCH_SRC)/pfbench.mk
	@mkdir -p $(@D)
	$(PFBENCH_CC) $(PFBENCH_ASFLAGS) -c $< -o $@

$(PFBENCH_ELF): $(PFBENCH_OBJS) $(PFBENCH_SRC)/link.ld
	@mkdir -p $(@D)
	$(PFBENCH_LD) $(PFBENCH_LDFLAGS) -o $@ $(PFBENCH_OBJS)

.PHONY: pfbench pfbench-clean
pfbench: $(PFBENCH_ELF)

pfbench-clean:
	rm -rf $(PFBENCH_OBJ) $(PFBENCH_ELF)

-include $(PFBENCH_OBJS:.o=.d)

.DEFAULT_GOAL := $(PFBENCH_SAVED_DEFAULT_GOAL)
