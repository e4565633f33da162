/** FileStore, the filesystem ResourceStore, passes the contract every resource store must pass. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { FileStore } from '../../../src/storage/fileStore';
import { describeResourceStoreContract } from '../../contract/resourceStore.contract';

describeResourceStoreContract('FileStore over a temporary directory', async () => {
  const base = mkdtempSync(join(tmpdir(), 'keepdav-contract-'));
  mkdirSync(join(base, 'root'));
  mkdirSync(join(base, 'state'));
  const store = await FileStore.open(join(base, 'root'), join(base, 'state', 'retained'));
  return {
    store,
    async makeSymlink(link, target) {
      const linkHost = join(base, 'root', link);
      symlinkSync(relative(dirname(linkHost), join(base, 'root', target)), linkHost);
    },
    async close() {
      rmSync(base, { recursive: true, force: true });
    },
  };
});
