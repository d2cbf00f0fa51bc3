// Public surface of the lab for the CLI dispatcher and tests.
export { labBootCommand, labBuildCommand, labDemoCommand, labSetupCommand } from './command.js';
export { type BootEvent, GuestConsole, type RunResult, type TranscriptLine } from './console.js';
export { type CrashTool, fetchCrashTool, runCrash } from './crash-tool.js';
export { type DemoResult, formatDemo, labDemo, type Timeline } from './demo.js';
export { type Guest, prepareLab, type StartGuestOptions, startGuest } from './guest.js';
export { type Compression, type LabBuild, labBuild } from './initramfs.js';
export { MARK } from './markers.js';
export { labDir } from './paths.js';
export { type QemuOptions, qemuArgv } from './qemu.js';
export { type LabSetup, labSetup } from './setup.js';
