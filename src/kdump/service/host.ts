// File-system facts Sys does not cover (is a directory writable, is a path a block device), behind an
// interface so host tests can describe any machine.
import { accessSync, constants, statSync } from 'node:fs';

export type PathKind = 'dir' | 'file' | 'block' | 'other' | 'missing';

export interface ServiceHost {
  kind(path: string): PathKind;
  /** access(path, W_OK|X_OK) for a directory, W_OK otherwise. */
  writable(path: string): boolean;
}

export const nodeHost: ServiceHost = {
  kind(path) {
    try {
      const st = statSync(path);
      if (st.isDirectory()) return 'dir';
      if (st.isFile()) return 'file';
      if (st.isBlockDevice()) return 'block';
      return 'other';
    } catch {
      return 'missing';
    }
  },
  writable(path) {
    try {
      accessSync(path, constants.W_OK | (statSync(path).isDirectory() ? constants.X_OK : 0));
      return true;
    } catch {
      return false;
    }
  },
};
