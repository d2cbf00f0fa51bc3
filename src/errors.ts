// Typed errors shared by every layer. Each class has a stable `code`; messages read like the failed
// call and `hint` says what to do next. Never match on `message`; match on the class or `code`.

export interface ErrorOptions {
  cause?: unknown;
  hint?: string | undefined;
}

export abstract class KexecError extends Error {
  /** The stable code of each class, declared once per class (test/unit/errors.test.ts checks uniqueness). */
  static readonly code: string = 'E_KEXEC';
  readonly hint: string | undefined;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
  get code(): string {
    return (this.constructor as typeof KexecError).code;
  }
  /**
   * name, code, message and hint, then the data the error carries (its own fields: offset, need, have,
   * path, errno, syscall ...), so that `--json` consumers need not parse the message. Bigints that do not
   * fit a JSON number are written as decimal strings; fields that are not scalars are left out.
   */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    if (this.hint !== undefined) out['hint'] = this.hint;
    for (const [key, value] of Object.entries(this)) {
      if (key === 'name' || key === 'hint' || key in out) continue;
      const v = jsonScalar(value);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
}

function jsonScalar(v: unknown): string | number | boolean | undefined {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return undefined;
}

/** The user asked for something that cannot be done as written (bad option, missing argument). */
export class UsageError extends KexecError {
  static override readonly code = 'E_USAGE';
}

/** A file is not what it must be: truncated, foreign, or of an unsupported kind. */
export class FormatError extends KexecError {
  static override readonly code: string = 'E_FORMAT';
  constructor(
    message: string,
    readonly format: string,
    readonly offset?: number,
    options: ErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A read would run past the end of the data: a length or offset in the file lies. */
export class TruncatedError extends FormatError {
  static override readonly code = 'E_TRUNCATED';
  constructor(
    readonly struct: string,
    readonly field: string,
    offset: number,
    readonly need: number,
    readonly have: number,
  ) {
    super(
      `${struct}.${field}: need ${need} bytes at offset 0x${offset.toString(16)}, file has ${have}`,
      struct,
      offset,
      { hint: 'the file is truncated or not of this format' },
    );
  }
}

/** A value read from a file exceeds a hard limit we set to bound time and memory. */
export class LimitError extends FormatError {
  static override readonly code = 'E_LIMIT';
}

/** A file could not be read or does not exist. */
export class FileError extends KexecError {
  static override readonly code = 'E_FILE';
  constructor(
    readonly path: string,
    readonly errno: string,
    options: ErrorOptions = {},
  ) {
    super(`open(${JSON.stringify(path)}) = ${errno}`, options);
  }
}

/** Segments do not fit in memory (kexec_load path). */
export class LayoutError extends KexecError {
  static override readonly code = 'E_LAYOUT';
}

/** A system call failed; `errno` is the symbolic name (EPERM, ENOEXEC, ...). */
export class SyscallError extends KexecError {
  static override readonly code: string = 'E_SYSCALL';
  constructor(
    readonly syscall: string,
    readonly args: string,
    readonly errno: string,
    readonly errnoValue: number,
    options: ErrorOptions = {},
  ) {
    super(`${syscall}(${args}) = ${errno}${describeErrno(errno)}`, options);
  }
}

/** The machine's state forbids the action: nothing loaded, no crashkernel reservation, not root. */
export class StateError extends KexecError {
  static override readonly code = 'E_STATE';
}

/** The lab (QEMU guest) could not be set up or a scenario failed. */
export class LabError extends KexecError {
  static override readonly code = 'E_LAB';
}

const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EBADF: 'Bad file descriptor',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  ENOEXEC: 'Exec format error',
  ENOSYS: 'Function not implemented',
  ENOTSUP: 'Operation not supported',
  EOPNOTSUPP: 'Operation not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EKEYREJECTED: 'Key was rejected by service',
  EBADMSG: 'Bad message',
  ENOKEY: 'Required key not available',
  ENOPKG: 'Package not installed',
  ELIBBAD: 'Accessing a corrupted shared library',
  EMSGSIZE: 'Message too long',
};

function describeErrno(errno: string): string {
  const text = ERRNO_TEXT[errno];
  return text ? ` (${text})` : '';
}
