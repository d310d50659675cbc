/**
 * The seccomp filter of a graded run, as the classic BPF program bubblewrap loads with
 * `--seccomp FD`: it denies the system calls that reach into another process (ptrace,
 * process_vm_readv/writev, pidfd_getfd), that make a user namespace (where the run would hold
 * capabilities again) and a few kernel interfaces no test needs (BPF, perf, userfaultfd,
 * keyrings). Everything else is allowed: Node, Jest and esbuild need it. mount(2) stays allowed:
 * the sandbox's own setup mounts its temporary folders, and without capabilities it fails.
 * Above: isolation.ts writes the program to a file and hands its descriptor to bwrap.
 */

/** `struct seccomp_data`: nr (u32), arch (u32), instruction pointer (u64), args (6 × u64). */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low 32 bits of args[0] on a little-endian machine (both architectures below). */
const OFFSET_ARG0_LOW = 16;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

const SECCOMP_RET_ALLOW = 0x7fff_0000;
const SECCOMP_RET_ERRNO = 0x0005_0000;
const EPERM = 1;
const ENOSYS = 38;

/** clone(2) flag that makes a user namespace, in which the run would hold capabilities again. */
const CLONE_NEWUSER = 0x1000_0000;

/** Denied on every architecture, by name; the numbers differ per architecture. */
export const DENIED_SYSCALLS = [
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'pidfd_getfd',
  'unshare',
  'setns',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'keyctl',
  'add_key',
  'request_key',
] as const;

type DeniedSyscall = (typeof DENIED_SYSCALLS)[number];

interface ArchTable {
  /** AUDIT_ARCH_* of the architecture, as the kernel reports it in seccomp_data.arch. */
  readonly audit: number;
  readonly numbers: Readonly<Record<DeniedSyscall | 'clone' | 'clone3', number>>;
  /** x86-64's x32 ABI shares the architecture value but sets this bit in the number. */
  readonly x32Bit?: number;
}

/** From the kernel's syscall tables (arch/x86/entry/syscalls, include/uapi/asm-generic). */
const ARCHES: Readonly<Partial<Record<NodeJS.Architecture, ArchTable>>> = {
  x64: {
    audit: 0xc000_003e,
    x32Bit: 0x4000_0000,
    numbers: {
      ptrace: 101,
      process_vm_readv: 310,
      process_vm_writev: 311,
      pidfd_getfd: 438,
      unshare: 272,
      setns: 308,
      bpf: 321,
      perf_event_open: 298,
      userfaultfd: 323,
      keyctl: 250,
      add_key: 248,
      request_key: 249,
      clone: 56,
      clone3: 435,
    },
  },
  arm64: {
    audit: 0xc000_00b7,
    numbers: {
      ptrace: 117,
      process_vm_readv: 270,
      process_vm_writev: 271,
      pidfd_getfd: 438,
      unshare: 97,
      setns: 268,
      bpf: 280,
      perf_event_open: 241,
      userfaultfd: 282,
      keyctl: 219,
      add_key: 217,
      request_key: 218,
      clone: 220,
      clone3: 435,
    },
  },
};

/** The ptrace(2) number of `arch`, for tests that check the filter from inside a run. */
export function ptraceNumber(arch: NodeJS.Architecture = process.arch): number | null {
  return ARCHES[arch]?.numbers.ptrace ?? null;
}

/** One instruction; jumps are resolved from labels when the program is assembled. */
type Instruction =
  | { readonly op: 'load'; readonly offset: number }
  | { readonly op: 'jeq' | 'jge' | 'jset'; readonly k: number; readonly then: string }
  | { readonly op: 'ret'; readonly value: number }
  | { readonly op: 'label'; readonly name: string };

function assemble(program: readonly Instruction[]): Buffer {
  const code = program.filter((i) => i.op !== 'label');
  const labels = new Map<string, number>();
  let at = 0;
  for (const instruction of program) {
    if (instruction.op === 'label') labels.set(instruction.name, at);
    else at += 1;
  }
  // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, in the machine's byte order.
  const out = Buffer.alloc(code.length * 8);
  code.forEach((instruction, index) => {
    const base = index * 8;
    let opcode: number;
    let jt = 0;
    let k: number;
    switch (instruction.op) {
      case 'load':
        opcode = BPF_LD_W_ABS;
        k = instruction.offset;
        break;
      case 'ret':
        opcode = BPF_RET_K;
        k = instruction.value;
        break;
      case 'jeq':
      case 'jge':
      case 'jset': {
        opcode = { jeq: BPF_JEQ_K, jge: BPF_JGE_K, jset: BPF_JSET_K }[instruction.op];
        k = instruction.k;
        const target = labels.get(instruction.then);
        if (target === undefined) throw new Error(`seccomp: no label ${instruction.then}`);
        jt = target - index - 1;
        if (jt < 0 || jt > 255)
          throw new Error(`seccomp: jump to ${instruction.then} out of range`);
        break;
      }
    }
    out.writeUInt16LE(opcode, base);
    out.writeUInt8(jt, base + 2);
    out.writeUInt8(0, base + 3);
    out.writeUInt32LE(k >>> 0, base + 4);
  });
  return out;
}

/**
 * The filter for `arch`, or null on an architecture without a table here (the layer is then
 * reported as unavailable). Another architecture's system calls (i386 on x86-64) are all denied.
 */
export function seccompProgram(arch: NodeJS.Architecture = process.arch): Buffer | null {
  const table = ARCHES[arch];
  return table === undefined ? null : buildFor(table);
}

function buildFor(table: ArchTable): Buffer {
  const deny = (nr: number): Instruction => ({ op: 'jeq', k: nr, then: 'eperm' });
  return assemble([
    { op: 'load', offset: OFFSET_ARCH },
    { op: 'jeq', k: table.audit, then: 'native' },
    { op: 'ret', value: SECCOMP_RET_ERRNO | EPERM },
    { op: 'label', name: 'native' },
    { op: 'load', offset: OFFSET_NR },
    ...(table.x32Bit === undefined
      ? []
      : [{ op: 'jge', k: table.x32Bit, then: 'eperm' } satisfies Instruction]),
    ...DENIED_SYSCALLS.map((name) => deny(table.numbers[name])),
    // glibc falls back to clone(2) when clone3 is unknown; clone's flags can be checked.
    { op: 'jeq', k: table.numbers.clone3, then: 'enosys' },
    { op: 'jeq', k: table.numbers.clone, then: 'clone' },
    { op: 'ret', value: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'clone' },
    { op: 'load', offset: OFFSET_ARG0_LOW },
    { op: 'jset', k: CLONE_NEWUSER, then: 'eperm' },
    { op: 'ret', value: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'eperm' },
    { op: 'ret', value: SECCOMP_RET_ERRNO | EPERM },
    { op: 'label', name: 'enosys' },
    { op: 'ret', value: SECCOMP_RET_ERRNO | ENOSYS },
  ]);
}
