/** How many descriptors of this process (any thread) are open on `hostPath` (/proc/self/fd). */
import { readdirSync, readlinkSync } from 'node:fs';

export function openDescriptorsOn(hostPath: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === hostPath;
    } catch {
      return false; // closed since the directory was read
    }
  }).length;
}
