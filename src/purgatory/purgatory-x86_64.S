/*
 * kexec-ts x86_64 purgatory. Written for kexec-ts; GNU as, AT&T syntax.
 *
 * The kernel's relocate_kernel jumps here (offset 0 of the blob) in 64-bit mode, with identity-mapped
 * page tables covering RAM, after copying every kexec_load segment into place. We:
 *   1. load our own GDT and segments (the old kernel's GDT is not mapped any more),
 *   2. unless skip_checks, SHA-256 the regions listed in the header and compare with the stored digest;
 *      on mismatch print a line on the serial port (if serial_port != 0) and halt forever,
 *   3. enter the kernel's 64-bit entry with rsi = boot_params and every other GPR zero.
 *
 * The code is position independent (rip-relative only), so userspace may place the blob anywhere in
 * RAM; it patches the header below (offsets fixed by .org; src/purgatory/x86_64-header.ts mirrors them).
 * The .bss (hash state and a 4 KiB stack) follows the bytes; the segment's memsz covers it and the
 * kernel zero-fills memsz beyond the buffer.
 *
 * Kernel entry requirements: Documentation/arch/x86/boot.rst, "64-bit Boot Protocol": flat 4G segments
 * __BOOT_CS = 0x10 (execute/read) and __BOOT_DS = 0x18 (read/write), CS = __BOOT_CS, DS/ES/SS = __BOOT_DS,
 * interrupts disabled, %rsi = struct boot_params. SHA-256: FIPS 180-4 (constants in sections 4.2.2 and 5.3.3).
 */

	.code64
	.text
	.globl	purgatory_base
purgatory_base:
	/* 0x000: entry. A 5-byte jmp rel32 over the header, padded with int3. */
	.byte	0xe9
	.long	purgatory_start - (purgatory_base + 5)
	.org	0x008, 0xcc
	.ascii	"KTSPURG1"			/* 0x008 magic */
	.org	0x010
	.long	header_end - purgatory_base	/* 0x010 header size */
	.long	verify_regions - purgatory_base	/* 0x014 offset of verify_regions (host self-test) */
	.org	0x018
entry_rip:	.quad	0			/* 0x018 kernel 64-bit entry */
entry_rsi:	.quad	0			/* 0x020 boot_params address */
entry_rsp:	.quad	0			/* 0x028 kernel stack; 0 = our stack top */
skip_checks:	.long	0			/* 0x030 nonzero: do not hash (kexec -i) */
serial_port:	.word	0			/* 0x034 16550 base for the mismatch line; 0 = silent */
		.word	0			/* 0x036 reserved */
		.quad	0			/* 0x038 reserved */
	.org	0x040
expected_digest: .fill	32, 1, 0		/* 0x040 SHA-256 of the regions, as userspace computed it */
computed_digest: .fill	32, 1, 0		/* 0x060 what we computed (written at run time) */
regions:	.fill	16 * 16, 1, 0		/* 0x080 16 x { u64 start, u64 len }; len a multiple of 64 */
regions_end:
	.org	0x180
header_end:

purgatory_start:
	cli
	cld
	leaq	stack_top(%rip), %rsp

	/* GDTR on the stack: limit (u16) then base (u64). */
	leaq	gdt(%rip), %rax
	pushq	%rax
	pushw	$(gdt_end - gdt - 1)
	lgdt	(%rsp)
	addq	$10, %rsp

	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* Reload CS with a far return. */
	leaq	1f(%rip), %rax
	pushq	$0x10
	pushq	%rax
	lretq
1:
	movl	skip_checks(%rip), %eax
	testl	%eax, %eax
	jnz	boot_kernel
	call	verify_regions
	testl	%eax, %eax
	jnz	digest_mismatch

boot_kernel:
	movq	entry_rsp(%rip), %rax
	testq	%rax, %rax
	jnz	2f
	leaq	stack_top(%rip), %rax
2:	movq	%rax, %rsp
	movq	entry_rsi(%rip), %rsi
	pushq	entry_rip(%rip)
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	ret

digest_mismatch:
	movzwl	serial_port(%rip), %edx
	testl	%edx, %edx
	jz	halt
	leaq	mismatch_msg(%rip), %rsi
3:	lodsb
	testb	%al, %al
	jz	halt
	movl	%eax, %ebx
	/* Wait (bounded) for the transmit holding register to empty: LSR = base + 5, bit 5. */
	addl	$5, %edx
	movl	$0x100000, %ecx
4:	inb	%dx, %al
	testb	$0x20, %al
	jnz	5f
	pause
	loop	4b
5:	subl	$5, %edx
	movl	%ebx, %eax
	outb	%al, %dx
	jmp	3b
halt:
	cli
	hlt
	jmp	halt

/*
 * int verify_regions(void): hash the region table into computed_digest and compare it with
 * expected_digest; returns 0 on a match, 1 otherwise. Keeps the SysV callee-saved registers, so the
 * host self-test can call it from C.
 */
verify_regions:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15

	leaq	sha256_h0(%rip), %rsi
	leaq	sha_state(%rip), %rdi
	movl	$8, %ecx
	rep movsl
	movq	$0, sha_total(%rip)
	leaq	regions(%rip), %rax
	movq	%rax, sha_region(%rip)
6:	movq	sha_region(%rip), %rax
	movq	(%rax), %rsi
	movq	8(%rax), %rdx
	addq	%rdx, sha_total(%rip)
	shrq	$6, %rdx
7:	testq	%rdx, %rdx
	jz	8f
	pushq	%rsi
	pushq	%rdx
	call	sha256_block
	popq	%rdx
	popq	%rsi
	addq	$64, %rsi
	decq	%rdx
	jmp	7b
8:	movq	sha_region(%rip), %rax
	addq	$16, %rax
	movq	%rax, sha_region(%rip)
	leaq	regions_end(%rip), %rcx
	cmpq	%rcx, %rax
	jb	6b

	/* Final block: 0x80, zeros, bit length big-endian (every region is whole blocks). */
	subq	$64, %rsp
	movq	%rsp, %rdi
	xorl	%eax, %eax
	movl	$8, %ecx
	rep stosq
	movb	$0x80, (%rsp)
	movq	sha_total(%rip), %rax
	shlq	$3, %rax
	bswapq	%rax
	movq	%rax, 56(%rsp)
	movq	%rsp, %rsi
	call	sha256_block
	addq	$64, %rsp

	leaq	sha_state(%rip), %rsi
	leaq	computed_digest(%rip), %rdi
	leaq	expected_digest(%rip), %rdx
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
9:	movl	(%rsi,%rcx,4), %eax
	bswapl	%eax
	movl	%eax, (%rdi,%rcx,4)
	xorl	(%rdx,%rcx,4), %eax
	orl	%eax, %ebx
	incl	%ecx
	cmpl	$8, %ecx
	jb	9b
	xorl	%eax, %eax
	testl	%ebx, %ebx
	setnz	%al

	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

/*
 * sha256_block: one 64-byte block at %rsi into sha_state. Clobbers every GPR but %rsp.
 * Fully unrolled (TCG and real CPUs both pay per instruction): the message schedule W[0..63] on the
 * stack first, then 64 rounds with the working variables a..h in r8d..r15d renamed from round to round
 * instead of moved. Identities used (FIPS 180-4 4.1.2, rewritten with fewer operations):
 *   Sigma1(e) = ror6(e ^ ror5(e ^ ror14(e)))       Sigma0(a) = ror2(a ^ ror11(a ^ ror9(a)))
 *   sigma0(x) = ror7(x ^ ror11(x)) ^ (x >> 3)      sigma1(x) = ror17(x ^ ror2(x)) ^ (x >> 10)
 *   Ch(e,f,g) = ((f ^ g) & e) ^ g                  Maj(a,b,c) = ((a ^ b) & (b ^ c)) ^ b
 * and a ^ b of one round is b ^ c of the next, so Maj costs three instructions (%ecx/%edx alternate).
 * QEMU TCG shapes the rest (measured under qemu-x86_64, 64 MiB: 1.07 s -> 0.63-0.69 s of CPU, kexec-tools'
 * C sha256 0.84-0.87 s): each memory access makes TCG store every guest register changed since the last
 * one, and a rotate still owing its flags to one makes TCG call a flags helper. So K[i] are immediates, W
 * is loaded two words per movq (%rsi/%rdi/%rbp hold W[i..i+5], then %rsi W[i+6..i+7]), no round touches
 * memory after a rotate, and W_SCHED does its four loads together before any arithmetic.
 */
	.macro	W_LOAD i
	movl	(4*\i)(%rsi), %eax
	bswapl	%eax
	movl	%eax, (4*\i)(%rsp)
	.endm

	.macro	W_SCHED i
	movl	(4*(\i-15))(%rsp), %eax
	movl	(4*(\i-2))(%rsp), %ebx
	movl	(4*(\i-16))(%rsp), %r8d
	movl	(4*(\i-7))(%rsp), %r9d
	movl	%eax, %ecx
	movl	%ebx, %edx
	rorl	$11, %eax
	rorl	$2, %ebx
	xorl	%ecx, %eax
	xorl	%edx, %ebx
	rorl	$7, %eax
	rorl	$17, %ebx
	shrl	$3, %ecx
	shrl	$10, %edx
	xorl	%ecx, %eax
	xorl	%edx, %ebx
	addl	%r8d, %eax
	addl	%r9d, %ebx
	addl	%ebx, %eax
	movl	%eax, (4*\i)(%rsp)
	.endm

	/* h becomes the new a, d the new e; x = a ^ b for the next round, y = b ^ c on entry. */
	.macro	ROUND a, b, c, d, e, f, g, h, w, k, x, y
	addl	\w, \h
	addl	$\k, \h
	movl	\e, %eax
	movl	\f, %ebx
	rorl	$14, %eax
	xorl	\g, %ebx
	xorl	\e, %eax
	andl	\e, %ebx
	rorl	$5, %eax
	xorl	\g, %ebx
	xorl	\e, %eax
	rorl	$6, %eax
	addl	%ebx, \h
	addl	%eax, \h
	addl	\h, \d
	movl	\a, %eax
	movl	\a, \x
	rorl	$9, %eax
	xorl	\b, \x
	xorl	\a, %eax
	andl	\x, \y
	rorl	$11, %eax
	xorl	\b, \y
	xorl	\a, %eax
	addl	\y, \h
	rorl	$2, %eax
	addl	%eax, \h
	.endm

	.macro	ROUNDS8 i, k0, k1, k2, k3, k4, k5, k6, k7
	movq	(4*\i)(%rsp), %rsi
	movq	(4*(\i+2))(%rsp), %rdi
	movq	(4*(\i+4))(%rsp), %rbp
	ROUND	%r8d, %r9d, %r10d, %r11d, %r12d, %r13d, %r14d, %r15d, %esi, \k0, %ecx, %edx
	shrq	$32, %rsi
	ROUND	%r15d, %r8d, %r9d, %r10d, %r11d, %r12d, %r13d, %r14d, %esi, \k1, %edx, %ecx
	ROUND	%r14d, %r15d, %r8d, %r9d, %r10d, %r11d, %r12d, %r13d, %edi, \k2, %ecx, %edx
	shrq	$32, %rdi
	ROUND	%r13d, %r14d, %r15d, %r8d, %r9d, %r10d, %r11d, %r12d, %edi, \k3, %edx, %ecx
	ROUND	%r12d, %r13d, %r14d, %r15d, %r8d, %r9d, %r10d, %r11d, %ebp, \k4, %ecx, %edx
	shrq	$32, %rbp
	ROUND	%r11d, %r12d, %r13d, %r14d, %r15d, %r8d, %r9d, %r10d, %ebp, \k5, %edx, %ecx
	movq	(4*(\i+6))(%rsp), %rsi
	ROUND	%r10d, %r11d, %r12d, %r13d, %r14d, %r15d, %r8d, %r9d, %esi, \k6, %ecx, %edx
	shrq	$32, %rsi
	ROUND	%r9d, %r10d, %r11d, %r12d, %r13d, %r14d, %r15d, %r8d, %esi, \k7, %edx, %ecx
	.endm

sha256_block:
	subq	$256, %rsp
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	W_LOAD	\i
	.endr
	.irp	i, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	W_SCHED	\i
	.endr
	.irp	i, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47
	W_SCHED	\i
	.endr
	.irp	i, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63
	W_SCHED	\i
	.endr

	leaq	sha_state(%rip), %rdi
	movl	0(%rdi), %r8d
	movl	4(%rdi), %r9d
	movl	8(%rdi), %r10d
	movl	12(%rdi), %r11d
	movl	16(%rdi), %r12d
	movl	20(%rdi), %r13d
	movl	24(%rdi), %r14d
	movl	28(%rdi), %r15d
	movl	%r9d, %edx			/* b ^ c for round 0 */
	xorl	%r10d, %edx
	/* K[0..63] of FIPS 180-4 4.2.2 as immediates: no memory load per round */
	ROUNDS8	0, 0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5
	ROUNDS8	8, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174
	ROUNDS8	16, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da
	ROUNDS8	24, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967
	ROUNDS8	32, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85
	ROUNDS8	40, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070
	ROUNDS8	48, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3
	ROUNDS8	56, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2

	leaq	sha_state(%rip), %rdi
	addl	%r8d, 0(%rdi)
	addl	%r9d, 4(%rdi)
	addl	%r10d, 8(%rdi)
	addl	%r11d, 12(%rdi)
	addl	%r12d, 16(%rdi)
	addl	%r13d, 20(%rdi)
	addl	%r14d, 24(%rdi)
	addl	%r15d, 28(%rdi)
	addq	$256, %rsp
	ret

mismatch_msg:
	.asciz	"\r\nKEXEC-TS-PURGATORY SHA256-MISMATCH\r\n"

	.balign	8
gdt:
	.quad	0			/* 0x00 null */
	.quad	0			/* 0x08 unused */
	.quad	0x00af9a000000ffff	/* 0x10 __BOOT_CS: 64-bit code, execute/read, flat */
	.quad	0x00cf92000000ffff	/* 0x18 __BOOT_DS: data, read/write, flat 4G */
gdt_end:

	.balign	4
sha256_h0:	/* FIPS 180-4 5.3.3 */
	.long	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
	.long	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19

	.bss
	/*
	 * Writable data never shares a page with code: under QEMU TCG every store to a page holding
	 * translated code takes the slow self-modifying-code path (measured: SHA-256 4x slower), and real
	 * CPUs snoop stores near code too.
	 */
	.balign	4096
sha_state:	.skip	32
sha_total:	.skip	8
sha_region:	.skip	8
	.balign	16
stack:		.skip	4096
stack_top:
	.globl	purgatory_end
purgatory_end:
