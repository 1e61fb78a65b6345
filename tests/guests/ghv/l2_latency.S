/*
 * ghv: L2 code of the latency test (64-bit, on basic's L2 machine, l2_env.c),
 * and the test's host-RIP stub.
 *
 * R12 = number of tries. Each try reads the TSC and exits with the very next
 * instruction, so nothing of L2's runs between the two: the TSC L2 read is
 * left in EDX:EAX (CPUID exits before it executes, SDM 26.1.2), and the
 * IA32_TSC that L1's VM-exit MSR-store area receives is the TSC of that exit.
 * ghv skips the CPUID and resumes at the DEC.
 */
    .section .text
    .code64
    .globl l2_lat_entry, l2_lat_cpuid, l2_lat_done
l2_lat_entry:
1:  rdtsc
l2_lat_cpuid:
    cpuid                                   /* exit 10, len 2 */
    dec %r12
    jnz 1b
    xor %eax, %eax
l2_lat_done:
    vmcall                                  /* exit 18, len 3 */

/*
 * HOST_RIP of the latency test: the TSC when L1 gets control back, read as
 * early as L2's RAX and RDX allow (RDTSC is the third instruction here), then
 * ghv's usual stub with every L2 register as the exit left it.
 */
    .globl ghv_lat_exit_stub, ghv_lat_host_tsc
ghv_lat_exit_stub:
    mov %rax, lat_rax(%rip)
    mov %rdx, lat_rdx(%rip)
    rdtsc
    mov %eax, ghv_lat_host_tsc(%rip)
    mov %edx, ghv_lat_host_tsc+4(%rip)
    mov lat_rax(%rip), %rax
    mov lat_rdx(%rip), %rdx
    jmp ghv_vmexit_stub

    .section .data
    .balign 8
ghv_lat_host_tsc: .quad 0
lat_rax: .quad 0
lat_rdx: .quad 0

    .section .note.GNU-stack, "", @progbits
