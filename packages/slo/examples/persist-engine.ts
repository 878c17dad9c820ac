import { readFile, rename, writeFile } from 'node:fs/promises';
import { systemClock, type Clock } from '@ballast/core';
import { persistSloEngine, SloEngine, type Slo, type SloSnapshotStore } from '@ballast/slo';

/** A snapshot store in one file: written to a temporary file, then renamed over the old one (never half-written). */
export function fileSnapshotStore(path: string): SloSnapshotStore {
  return {
    load: () =>
      readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' ? undefined : Promise.reject(error),
      ),
    async save(snapshot) {
      await writeFile(`${path}.tmp`, snapshot);
      await rename(`${path}.tmp`, path);
    },
  };
}

/** Starts an engine that picks up where the last process left off, and saves its state every minute and on close. */
export async function startDurableEngine(slos: Slo[], path: string, clock: Clock = systemClock) {
  const engine = new SloEngine({ slos, clock });
  const persistence = await persistSloEngine(engine, {
    store: fileSnapshotStore(path),
    clock,
    everyMs: 60_000,
  });
  console.log(`SLO engine: ${persistence.state.detail}`); // "restored 2 SLOs from a snapshot taken at ..."
  return {
    engine,
    async close() {
      engine.close();
      await persistence.close(); // a last snapshot
    },
  };
}
