/**
 * `tread --version`: the version in tread's own package.json, found next to the running code
 * (dist/cli.js -> ../package.json; ts/cli/version.ts under tsx -> ../../package.json).
 */
import { readFileSync } from 'node:fs';

export function treadVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
      if (pkg?.name === 'tread' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not there: try the next */
    }
  }
  return 'unknown';
}
