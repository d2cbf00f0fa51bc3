// Public library API of kexec-ts.
export * from './errors.js';
export * from './sys/types.js';
