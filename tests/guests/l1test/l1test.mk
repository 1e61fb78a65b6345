# l1test: freestanding test kernel the hypervisor boots as its L1 guest.
#
# Included by the top-level Makefile, which runs from the repository root.
# Everything here is prefixed L1TEST_ so it cannot collide with the
# hypervisor's own (64-bit) CC/CFLAGS; this kernel is 32-bit code.
#
#   build/tests/l1test-mb1.elf  multiboot v1, ELF32 i386
#   build/tests/l1test-mb2.elf  multiboot2, ELF64 x86-64 container around the
#                               same 32-bit code (objcopy from the ELF32 link)

# Keep whatever default goal the including Makefile had (restored at the end).
L1TEST_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

L1TEST_CC      ?= gcc
L1TEST_LD      ?= ld
L1TEST_OBJCOPY ?= objcopy

L1TEST_SRC := tests/guests/l1test
L1TEST_OBJ := build/tests/l1test
L1TEST_MB1 := build/tests/l1test-mb1.elf
L1TEST_MB2 := build/tests/l1test-mb2.elf

L1TEST_CFLAGS := -m32 -std=c11 -O2 -g -Wall -Wextra \
	-ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector \
	-mno-sse -mno-mmx -mgeneral-regs-only -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -MMD -MP -Itests/guests/common
L1TEST_ASFLAGS := -m32 -ffreestanding -fno-pic -fno-pie -MMD -MP
L1TEST_LDFLAGS := -m elf_i386 -nostdlib -static -z noexecstack --build-id=none \
	-T $(L1TEST_SRC)/link.ld

L1TEST_C_NAMES := main serial print mbinfo cmdline idt timer tests_cpu tests_mode tests_mem tests_hostile
L1TEST_C_NAMES += tests_smp tests_gdb tests_uart
L1TEST_S_NAMES := entry isr longmode ring3

L1TEST_C_OBJS := $(L1TEST_C_NAMES:%=$(L1TEST_OBJ)/%.o)
L1TEST_S_OBJS := $(L1TEST_S_NAMES:%=$(L1TEST_OBJ)/%.o)
L1TEST_HDR_OBJS := $(L1TEST_OBJ)/mb1hdr.o $(L1TEST_OBJ)/mb2hdr.o
L1TEST_COMMON_OBJS := $(L1TEST_S_OBJS) $(L1TEST_C_OBJS)
L1TEST_MB2_ELF32 := $(L1TEST_OBJ)/l1test-mb2.elf32

# Static pattern rules: explicit, so they win over any generic %.o rule upstairs.
$(L1TEST_C_OBJS): $(L1TEST_OBJ)/%.o: $(L1TEST_SRC)/%.c $(L1TEST_SRC)/l1test.mk
	@mkdir -p $(@D)
	$(L1TEST_CC) $(L1TEST_CFLAGS) -c $< -o $@

$(L1TEST_S_OBJS) $(L1TEST_HDR_OBJS): $(L1TEST_OBJ)/%.o: $(L1TEST_SRC)/%.S $(L1TEST_SRC)/l1test.mk
	@mkdir -p $(@D)
	$(L1TEST_CC) $(L1TEST_ASFLAGS) -c $< -o $@

$(L1TEST_MB1): $(L1TEST_OBJ)/mb1hdr.o $(L1TEST_COMMON_OBJS) $(L1TEST_SRC)/link.ld
	@mkdir -p $(@D)
	$(L1TEST_LD) $(L1TEST_LDFLAGS) -o $@ $(L1TEST_OBJ)/mb1hdr.o $(L1TEST_COMMON_OBJS)

$(L1TEST_MB2_ELF32): $(L1TEST_OBJ)/mb2hdr.o $(L1TEST_COMMON_OBJS) $(L1TEST_SRC)/link.ld
	@mkdir -p $(@D)
	$(L1TEST_LD) $(L1TEST_LDFLAGS) -o $@ $(L1TEST_OBJ)/mb2hdr.o $(L1TEST_COMMON_OBJS)

# Multiboot2 loaders accept ELF64; the code inside stays 32-bit (entered in
# protected mode), only the container changes.
$(L1TEST_MB2): $(L1TEST_MB2_ELF32)
	@mkdir -p $(@D)
	$(L1TEST_OBJCOPY) -I elf32-i386 -O elf64-x86-64 $< $@

.PHONY: l1test l1test-clean
l1test: $(L1TEST_MB1) $(L1TEST_MB2)

l1test-clean:
	rm -rf $(L1TEST_OBJ) $(L1TEST_MB1) $(L1TEST_MB2)

-include $(L1TEST_C_OBJS:.o=.d) $(L1TEST_S_OBJS:.o=.d) $(L1TEST_HDR_OBJS:.o=.d)

.DEFAULT_GOAL := $(L1TEST_SAVED_DEFAULT_GOAL)
