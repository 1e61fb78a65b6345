# ghv: guest-hypervisor test kernel (runs as L1 under Nestor, or on bare Bochs).
#
# Included by the top-level Makefile, which runs from the repository root.
# Every variable is prefixed GHV_ so nothing collides with the includer's
# CC/CFLAGS (Nestor itself is built with -mcmodel=kernel; ghv is a low,
# identity-mapped -mcmodel=small image).
#
#   build/tests/ghv.elf   Multiboot2 ELF64 kernel, loaded at 1 MiB

# Keep whatever default goal the including Makefile had (restored at the end).
GHV_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

GHV_CC ?= gcc
GHV_LD ?= ld

GHV_SRC := tests/guests/ghv
GHV_OBJ := build/tests/ghv
GHV_ELF := build/tests/ghv.elf

GHV_CFLAGS := -m64 -std=c11 -O2 -Wall -Wextra -mcmodel=small \
	-ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone -fno-stack-protector \
	-mgeneral-regs-only -mno-sse -mno-mmx -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -MMD -MP -Itests/guests/common
GHV_ASFLAGS := -m64 -ffreestanding -fno-pic -fno-pie -D__ASSEMBLER__ -MMD -MP
GHV_LDFLAGS := -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--build-id=none -T $(GHV_SRC)/link.ld

# mb2hdr first: the Multiboot2 header must open the image.
GHV_S_NAMES := mb2hdr entry isr vmrun vmx_try user l2_workload
GHV_C_NAMES := main cmdline serial print util cpu check vmx vmcs_setup l2_env exits basic negative

# The extended tests (events, l0, msrarea, pae). Their objects live in x/ and
# are linked last: link.ld places their code, read-only data and data after
# the original image, so basic's and neg's code and data keep their exact
# addresses (and their transcripts stay byte-for-byte the same).
GHV_X_S_NAMES := l2_more
GHV_X_C_NAMES := xtest events l0 msrarea pae

GHV_S_OBJS := $(GHV_S_NAMES:%=$(GHV_OBJ)/%.S.o)
GHV_C_OBJS := $(GHV_C_NAMES:%=$(GHV_OBJ)/%.c.o)
# The nested-EPT tests and runl2 (ept, ept-ug, ept-hostile, ept-outside,
# runl2). Objects in x/e/, linked after the extended tests: code and
# read-only data go on in the extended tests' segment, their .data/.bss into
# a fourth segment after it (link.ld), so no earlier address moves.
GHV_XE_S_NAMES := l2_ept
GHV_XE_C_NAMES := eptlib ept eptug epthostile runl2 hostile_nested
# test=smp (smp.c, smp_asm.S): linked after everything else, moves no address.
GHV_XE_S_NAMES += smp_asm
GHV_XE_C_NAMES += smp
# test=livebitmap and test=xexits: linked after everything else too.
GHV_XE_S_NAMES += l2_xexits
GHV_XE_C_NAMES += livebitmap xexits
# test=shadow (VMCS shadowing for ghv's L2): linked after everything else too.
GHV_XE_S_NAMES += l2_shadow
GHV_XE_C_NAMES += shadow
# test=eptad: linked after everything else too.
GHV_XE_S_NAMES += l2_eptad
GHV_XE_C_NAMES += eptad
# test=apicv (APIC virtualization for ghv's L2): linked after everything else too.
GHV_XE_S_NAMES += l2_apicv
GHV_XE_C_NAMES += apicv
# test=apicv-outside (Nestor only): linked after everything else too.
GHV_XE_C_NAMES += apicv_outside
# test=latency (exit latency seen by L1, a benchmark figure): linked after everything else too.
GHV_XE_S_NAMES += l2_latency
GHV_XE_C_NAMES += latency

GHV_XS_OBJS := $(GHV_X_S_NAMES:%=$(GHV_OBJ)/x/%.S.o)
GHV_XC_OBJS := $(GHV_X_C_NAMES:%=$(GHV_OBJ)/x/%.c.o)
GHV_XES_OBJS := $(GHV_XE_S_NAMES:%=$(GHV_OBJ)/x/e/%.S.o)
GHV_XEC_OBJS := $(GHV_XE_C_NAMES:%=$(GHV_OBJ)/x/e/%.c.o)
GHV_ALL_OBJS := $(GHV_S_OBJS) $(GHV_C_OBJS) $(GHV_XS_OBJS) $(GHV_XC_OBJS) $(GHV_XES_OBJS) $(GHV_XEC_OBJS)

# Static pattern rules: explicit, so they win over any generic rule upstairs.
$(GHV_C_OBJS): $(GHV_OBJ)/%.c.o: $(GHV_SRC)/%.c $(GHV_SRC)/ghv.mk
	@mkdir -p $(@D)
	$(GHV_CC) $(GHV_CFLAGS) -c $< -o $@

$(GHV_XC_OBJS): $(GHV_OBJ)/x/%.c.o: $(GHV_SRC)/%.c $(GHV_SRC)/ghv.mk
	@mkdir -p $(@D)
	$(GHV_CC) $(GHV_CFLAGS) -c $< -o $@

$(GHV_XEC_OBJS): $(GHV_OBJ)/x/e/%.c.o: $(GHV_SRC)/%.c $(GHV_SRC)/ghv.mk
	@mkdir -p $(@D)
	$(GHV_CC) $(GHV_CFLAGS) -c $< -o $@

$(GHV_S_OBJS): $(GHV_OBJ)/%.S.o: $(GHV_SRC)/%.S $(GHV_SRC)/ghv.mk
	@mkdir -p $(@D)
	$(GHV_CC) $(GHV_ASFLAGS) -c $< -o $@

$(GHV_XS_OBJS): $(GHV_OBJ)/x/%.S.o: $(GHV_SRC)/%.S $(GHV_SRC)/ghv.mk
	@mkdir -p $(@D)
	$(GHV_CC) $(GHV_ASFLAGS) -c $< -o $@

$(GHV_XES_OBJS): $(GHV_OBJ)/x/e/%.S.o: $(GHV_SRC)/%.S $(GHV_SRC)/ghv.mk
	@mkdir -p $(@D)
	$(GHV_CC) $(GHV_ASFLAGS) -c $< -o $@

$(GHV_ELF): $(GHV_ALL_OBJS) $(GHV_SRC)/link.ld
	@mkdir -p $(@D)
	$(GHV_LD) $(GHV_LDFLAGS) -o $@ $(GHV_ALL_OBJS)

.PHONY: ghv ghv-clean
ghv: $(GHV_ELF)

ghv-clean:
	rm -rf $(GHV_OBJ) $(GHV_ELF)

-include $(GHV_ALL_OBJS:.o=.d)

.DEFAULT_GOAL := $(GHV_SAVED_DEFAULT_GOAL)
