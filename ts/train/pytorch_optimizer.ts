/**
 * Carrying a PyTorch optimizer's state into tread (fine-tuning, or continuing a run).
 *
 * PyTorch side (README, "Fine-tuning"): every state value of `optimizer.state_dict()` as a
 * float32 tensor named `state.<param index>.<key>` in a safetensors file, and the
 * `param_groups` as JSON in its `__metadata__`:
 *
 *   sd = optimizer.state_dict()
 *   tensors = {f"state.{i}.{k}": torch.as_tensor(v, dtype=torch.float32)
 *              for i, s in sd["state"].items() for k, v in s.items() if v is not None}
 *   save_file(tensors, "optimizer.safetensors", metadata={"param_groups": json.dumps(sd["param_groups"])})
 *
 * tread side: `await loadPyTorchOptimizerState(optimizer, 'optimizer.safetensors')`, with the
 * optimizer built over the same parameters in the same order and groups (after the
 * scheduler, as in PyTorch, since a scheduler's constructor writes the groups' rates). The
 * optimizer's loadStateDict then maps PyTorch's option names (weight_decay -> weightDecay,
 * foreach/capturable dropped, unknown keys refused); nothing changes if anything is refused.
 */
import { CheckpointError, readCheckpointFile } from './checkpoint.js';
import type { SafetensorsFile } from './safetensors.js';
import type { OptimizerLike } from './types.js';

/** PyTorch's `{ state, param_groups }` from a parsed file in the layout above. */
export function pyTorchOptimizerState(file: SafetensorsFile, what = 'optimizer state'): { state: Record<string, Record<string, Float32Array | Int32Array>>; param_groups: unknown[] } {
  const raw = file.metadata.param_groups;
  if (raw === undefined) throw new CheckpointError(`${what}: no 'param_groups' in __metadata__ (write it with metadata={"param_groups": json.dumps(sd["param_groups"])}); nothing was loaded`);
  let groups: unknown;
  try {
    groups = JSON.parse(raw);
  } catch (e) {
    throw new CheckpointError(`${what}: __metadata__ 'param_groups' is not valid JSON (${(e as Error).message}); nothing was loaded`);
  }
  if (!Array.isArray(groups)) throw new CheckpointError(`${what}: __metadata__ 'param_groups' is not a list; nothing was loaded`);
  const state: Record<string, Record<string, Float32Array | Int32Array>> = Object.create(null);
  for (const [name, t] of file.tensors) {
    const m = /^state\.(\d+)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name);
    if (!m) throw new CheckpointError(`${what}: tensor '${name}' is not named 'state.<param index>.<key>'; nothing was loaded`);
    (state[m[1]] ??= Object.create(null))[m[2]] = t.data;
  }
  return { state, param_groups: groups };
}

/**
 * Loads the optimizer state that PyTorch wrote to `file` (see above) into `optimizer`.
 * Throws a CheckpointError saying what is wrong, and then the optimizer is unchanged.
 */
export async function loadPyTorchOptimizerState(optimizer: OptimizerLike, file: string): Promise<void> {
  const parsed = await readCheckpointFile(file);
  const sd = pyTorchOptimizerState(parsed, `optimizer state '${file}'`);
  try {
    optimizer.loadStateDict(sd);
  } catch (e) {
    throw new CheckpointError(`optimizer state '${file}': ${(e as Error).message}; the optimizer was left unchanged`);
  }
}
