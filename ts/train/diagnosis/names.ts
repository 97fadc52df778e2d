/**
 * Names a reader recognizes: a layer by its type and path ('ReLU 2', 'Linear 0.weight'),
 * not a bare index.
 */
import { sequentialLayers } from '../layers.js';
import { entriesOf, type ModuleLike } from '../types.js';

/** 'Linear' for the module at a path ('0', 'block.fc'), from a Module tree or a Sequential. */
export function moduleKinds(model: ModuleLike): Map<string, string> {
  const kinds = new Map<string, string>();
  const m = model as any;
  if (typeof m.namedModules === 'function') {
    for (const [path, mod] of m.namedModules() as [string, any][]) kinds.set(path, mod?.constructor?.name ?? 'Module');
  } else {
    for (const l of sequentialLayers(model) ?? []) kinds.set(l.name, l.kind);
  }
  return kinds;
}

/** 'Linear 0.weight': the owning layer's type before the parameter's path. */
export function paramLabel(name: string, kinds: Map<string, string>): string {
  const dot = name.lastIndexOf('.');
  const kind = kinds.get(dot < 0 ? '' : name.slice(0, dot));
  return kind && kind !== 'Sequential' ? `${kind} ${name}` : name;
}

/**
 * Display names for a model's parameters and leaf layers, keyed as the history's keys are
 * ('0.weight' -> 'Linear 0.weight', '1' -> 'ReLU 1'): pass to the report as `names`.
 */
export function layerLabels(model: ModuleLike): Record<string, string> {
  const kinds = moduleKinds(model);
  const out: Record<string, string> = {};
  for (const [path, kind] of kinds) if (path && kind !== 'Sequential') out[path] = `${kind} ${path}`;
  for (const [name] of entriesOf(model.namedParameters() as any)) out[name] = paramLabel(name, kinds);
  return out;
}
