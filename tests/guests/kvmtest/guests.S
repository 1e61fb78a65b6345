/*
 * kvmtest guest payloads.
 *
 * These bytes are never executed by the host program: they live in .rodata
 * and kvmtest.c copies each payload to guest-physical 0x1000 of a fresh VM.
 * Every payload is position independent apart from the absolute MMIO
 * addresses, and ends with its HLT so that the expected guest RIP after the
 * HLT exit is 0x1000 + (end - start).
 *
 * Exits each payload must cause, in order (checked by kvmtest.c):
 *   real    OUT 0x10 (1 byte 0x52), MMIO write 1 byte 0xa5 at 0x300000, HLT
 *   prot32  OUT 0x11 (1 byte 0x32), MMIO write 4 bytes 0xdeadbeef at 0x300004, HLT
 *   long64  OUT 0x12 (1 byte 0x64), MMIO write 8 bytes 0x1122334455667788 at
 *           0x300008, CPUID leaf 0 then OUT 0x13 (4 bytes, EBX), HLT
 */

	.section .rodata, "a"

/* ---- real: 16-bit real mode. DS has base 0 and a 4 GiB limit (set up by
 * the host through KVM_SET_SREGS, "big real mode"), so an address-size
 * override reaches 0x300000, above the 1 MiB real-mode window. */
	.globl kvmtest_real_start, kvmtest_real_end
kvmtest_real_start:
	.code16
	movb	$0x52, %al
	outb	%al, $0x10
	addr32 movb $0xa5, 0x300000
	hlt
kvmtest_real_end:

/* ---- prot32: 32-bit protected mode, flat segments, paging off. */
	.globl kvmtest_prot32_start, kvmtest_prot32_end
kvmtest_prot32_start:
	.code32
	movb	$0x32, %al
	outb	%al, $0x11
	movl	$0xdeadbeef, 0x300004
	hlt
kvmtest_prot32_end:

/* ---- long64: 64-bit long mode, identity-mapped paging. */
	.globl kvmtest_long64_start, kvmtest_long64_end
kvmtest_long64_start:
	.code64
	movb	$0x64, %al
	outb	%al, $0x12
	movabsq	$0x1122334455667788, %rax
	movq	%rax, 0x300008
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	cpuid
	movl	%ebx, %eax
	outl	%eax, $0x13
	hlt
kvmtest_long64_end:

/* ---- smp: one payload, run by both vCPUs of one VM (smp.c). RBX = vCPU
 * id (0 or 1), RSP its own stack. Port 0x14 <- id ("up"); then two phases
 * of ping-pong on the shared dword at 0x20000: vCPU n increments it only
 * while its parity is n, so neither gets ahead of the other by more than
 * one step and each phase needs both vCPUs running; at the end of a phase
 * port 0x15 <- its own increments (200), and after the second phase port
 * 0x16 <- the counter, then HLT. The host moves each vCPU thread to the
 * other CPU between the phases. */
	.globl kvmtest_smp_start, kvmtest_smp_end
kvmtest_smp_start:
	.code64
	movl	%ebx, %eax
	outl	%eax, $0x14
	xorl	%r13d, %r13d
2:	xorl	%r12d, %r12d
1:	movl	0x20000, %eax
	andl	$1, %eax
	cmpl	%ebx, %eax
	jne	3f
	lock incl 0x20000
	incl	%r12d
	cmpl	$200, %r12d
	jne	1b
	movl	%r12d, %eax
	outl	%eax, $0x15
	incl	%r13d
	cmpl	$2, %r13d
	jne	2b
	movl	0x20000, %eax
	outl	%eax, $0x16
	hlt
3:	pause
	jmp	1b
kvmtest_smp_end:

	.section .note.GNU-stack, "", @progbits
