import type { DeviceModel } from './model.js';

/**
 * The one save/restore check every device shares (crosvm's suspendable_tests!):
 * snapshot, change the device through `mutate`, restore, snapshot again: equal.
 * Returns a description of the difference, or null when the contract holds.
 */
export function checkSaveRestore(model: DeviceModel, mutate: (m: DeviceModel) => void): string | null {
  const before = JSON.stringify(model.saveState());
  mutate(model);
  const changed = JSON.stringify(model.saveState());
  if (changed === before) return 'mutate() did not change the saved state, so the check proves nothing';
  model.loadState(JSON.parse(before));
  const after = JSON.stringify(model.saveState());
  return after === before ? null : `state after restore differs:\n before: ${before}\n after:  ${after}`;
}
