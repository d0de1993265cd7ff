import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { GuestKernel } from './kernel.js';
import { LabError } from './lab-error.js';

export const BUSYBOX = '/usr/bin/busybox';

/**
 * The guest's /init. It loads the modules in dependency order, mounts the host's / read-only
 * over virtfs with a tmpfs overlay on top (so the guest runs the host's Node, pppd and this very
 * checkout, and may write /etc/ppp and /run), then runs the script named by `lab.script=` on the
 * kernel command line inside that root. Markers on the console (ttyS1) tell the runner how far
 * the guest got; the runner never sleeps a fixed time.
 */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do
  # ifb would make ifb0 and ifb1 at once: a guest's interfaces are the scenario's (the queue hook makes its own)
  case $m in ifb) params=numifbs=0 ;; *) params= ;; esac
  insmod /modules/$m.ko $params || echo "LAB:FAIL insmod $m"
done
script=
for a in $(cat /proc/cmdline); do
  case "$a" in lab.script=*) script="\${a#lab.script=}" ;; esac
done
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || echo "LAB:FAIL mount 9p"
mount -t tmpfs -o size=64m tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || echo "LAB:FAIL mount overlay"
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/run
mkdir -p /newroot/run/lock /newroot/run/laplink
ip link set lo up 2>/dev/null
echo "LAB:BOOTED"
if [ -n "$script" ]; then
  chroot /newroot /bin/sh "$script"
  echo "LAB:EXIT $?"
else
  echo "LAB:FAIL no lab.script= on the kernel command line"
fi
poweroff -f
`;

/** Build (once per kernel and init text) the initramfs: busybox-static, the modules, /init. */
export async function ensureInitramfs(kernel: GuestKernel): Promise<string> {
  if (!existsSync(BUSYBOX)) throw new LabError(`${BUSYBOX} is missing: install busybox-static`);
  const names = kernel.modules.map((m) => basename(m, '.ko'));
  const key = createHash('sha256').update(INIT_SCRIPT).update(names.join(' ')).digest('hex').slice(0, 12);
  const out = join(kernel.dir, `initramfs-${key}.cpio`);
  if (existsSync(out)) return out;
  const stage = await mkdtemp(join(kernel.dir, 'stage-'));
  try {
    for (const d of ['bin', 'proc', 'sys', 'dev', 'modules', 'lower', 'upper', 'newroot']) await mkdir(join(stage, d));
    await copyFile(BUSYBOX, join(stage, 'bin', 'busybox'));
    await chmod(join(stage, 'bin', 'busybox'), 0o755);
    for (const m of kernel.modules) await copyFile(m, join(stage, 'modules', basename(m)));
    await writeFile(join(stage, 'modules.list'), names.join('\n') + '\n');
    await writeFile(join(stage, 'init'), INIT_SCRIPT, { mode: 0o755 });
    const tmp = `${out}.tmp`;
    await execa('bash', ['-o', 'pipefail', '-c', 'cd "$1" && find . | cpio -o -H newc --quiet > "$2"', '_', stage, tmp]);
    await rename(tmp, out);
    return out;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
