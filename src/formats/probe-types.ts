// The probe result shared by every format, modelled on the kernel's kexec_file_ops.probe (returns 0
// or -ENOEXEC) and kexec-tools' file_type.probe, but with the parsed header or a readable reason.

/** A probe is cheap and total: it never throws on a mismatch, it says why. */
export type Probe<H> = { ok: true; header: H } | { ok: false; reason: string };
